"""The T-JEPA pair: a trainable student (context encoder + predictor) and the EMA target encoder."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from sklearn_tjepa.model.encoder import TabularEncoder
from sklearn_tjepa.model.predictors import MLPPredictor, TransformerPredictor
from sklearn_tjepa.model.tokenizer import FeatureTokenizer

__all__ = [
    "ModelSpec",
    "StudentOutput",
    "JEPAStudent",
    "build_encoder",
    "build_student",
    "encoder_state",
    "load_encoder",
    "make_target_encoder",
    "ema_update",
]

@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild the encoder and predictor modules (plain Python values).

    Attributes named like a parameter of :class:`~sklearn_tjepa.TJEPATransformer` carry its
    value (the estimator fills them by name); ``numerical_positions``,
    ``categorical_positions`` and ``cardinalities`` come from the fitted preprocessing, and
    ``numerical_bin_edges`` from the training data when ``numerical_embedding="piecewise_linear"``.
    """

    numerical_positions: tuple[int, ...]
    categorical_positions: tuple[int, ...]
    cardinalities: tuple[int, ...]
    d_model: int
    n_layers: int
    n_heads: int
    ffn_dim: int
    dropout: float
    activation: str
    norm: str
    n_cls_tokens: int
    numerical_embedding: str
    feature_index_embedding: bool
    feature_type_embedding: bool
    predictor: str
    predictor_d_model: int
    predictor_n_layers: int
    predictor_n_heads: int
    predictor_ffn_dim: int
    numerical_bin_edges: tuple[tuple[float, ...], ...] | None = None

    @property
    def n_features(self) -> int:
        """Number of feature tokens ``D``."""
        return len(self.numerical_positions) + len(self.categorical_positions)


def _build(module: type, spec: ModelSpec, **given):
    """``module(**given)``, plus each of its arguments that is named like a field of ``spec``."""
    fields = {field.name for field in dataclasses.fields(spec)}
    names = [name for name in inspect.signature(module).parameters if name in fields and name not in given]
    return module(**{name: getattr(spec, name) for name in names}, **given)


def build_encoder(spec: ModelSpec, *, recompute: bool = False) -> TabularEncoder:
    """Build a freshly initialised encoder (uses the global torch RNG: seed it first).

    ``recompute``: activation checkpointing in its blocks (see
    :class:`~sklearn_tjepa.model.TransformerStack`).
    """
    bins = None
    if spec.numerical_bin_edges is not None:
        bins = [torch.tensor(edges, dtype=torch.float32) for edges in spec.numerical_bin_edges]
    return _build(TabularEncoder, spec, tokenizer=_build(FeatureTokenizer, spec, numerical_bins=bins), recompute=recompute)


class StudentOutput(NamedTuple):
    """What the student computes for the objective (:func:`~sklearn_tjepa.model.jepa_loss`).

    Attributes
    ----------
    predicted : Tensor
        Predicted target tokens, ``(P * V * B, n_trgt, d_model)``.
    encoded : Tensor
        The context encoder's output, ``(V * B, n_cls + n_ctx, d_model)``.
    """

    predicted: torch.Tensor
    encoded: torch.Tensor


class JEPAStudent(nn.Module):
    """The trainable half of T-JEPA: context encoder followed by the predictor.

    Parameters
    ----------
    encoder : TabularEncoder
        The context encoder.
    predictor : TransformerPredictor or MLPPredictor
        Maps context tokens to predicted target tokens.
    """

    def __init__(self, encoder: TabularEncoder, predictor: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor, context: torch.Tensor, targets: torch.Tensor) -> StudentOutput:
        """Encode the context views and predict the target tokens.

        Shape
        -----
        - x_num: ``(B, n_numerical)``, x_cat: ``(B, n_categorical)``
        - context: ``(V, B, n_ctx)``, targets: ``(P, B, n_trgt)``
        - output: see :class:`StudentOutput`
        """
        encoded = self.encoder(x_num, x_cat, context)
        return StudentOutput(self.predictor(encoded, context, targets), encoded)


def build_student(spec: ModelSpec, *, recompute: bool = False) -> JEPAStudent:
    """Build context encoder and predictor (uses the global torch RNG: seed it first).

    ``recompute`` turns on activation checkpointing in the encoder's and the transformer
    predictor's blocks (see :class:`~sklearn_tjepa.model.TransformerStack`); it changes memory
    and time, not the results.
    """
    encoder = build_encoder(spec, recompute=recompute)
    if spec.predictor == "transformer":
        predictor = _build(
            TransformerPredictor,
            spec,
            n_features=spec.n_features,
            n_layers=spec.predictor_n_layers,
            n_heads=spec.predictor_n_heads,
            ffn_dim=spec.predictor_ffn_dim,
            recompute=recompute,
        )
    else:
        predictor = _build(MLPPredictor, spec, n_features=spec.n_features, hidden_dim=spec.predictor_d_model)
    return JEPAStudent(encoder, predictor)


def encoder_state(encoder: TabularEncoder, *, copy: bool = False) -> dict[str, torch.Tensor]:
    """The encoder's weights as detached CPU tensors.

    With ``copy=False`` the weights of an encoder on the CPU are shared, not copied (for
    pickling); ``copy=True`` takes a snapshot that later training steps do not change.
    """
    state = {name: value.detach().cpu() for name, value in encoder.state_dict().items()}
    return {name: value.clone() for name, value in state.items()} if copy else state


def load_encoder(spec: ModelSpec, state: dict[str, torch.Tensor]) -> TabularEncoder:
    """Rebuild a frozen encoder in eval mode on the CPU from ``spec`` and its weights ``state``.

    The global torch RNG that building draws from is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        encoder = build_encoder(spec)
    encoder.load_state_dict({name: value.to("cpu") for name, value in state.items()})
    encoder.requires_grad_(False)
    return encoder.eval()


def make_target_encoder(context_encoder: TabularEncoder) -> TabularEncoder:
    """Return a frozen copy of the context encoder, in eval mode, without gradients."""
    target = copy.deepcopy(context_encoder)
    target.requires_grad_(False)
    return target.eval()


@torch.no_grad()
def ema_update(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """``theta_target = m * theta_target + (1 - m) * theta_source`` for all parameters, fused."""
    target_params = list(target.parameters())
    source_params = [p.detach() for p in source.parameters()]
    torch._foreach_lerp_(target_params, source_params, 1.0 - momentum)

