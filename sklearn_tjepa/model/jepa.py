"""The T-JEPA pair: a trainable student (context encoder + predictor) and the EMA target encoder."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_tjepa.model.encoder import TabularEncoder
from sklearn_tjepa.model.predictors import MLPPredictor, TransformerPredictor
from sklearn_tjepa.model.tokenizer import FeatureTokenizer

__all__ = [
    "ModelSpec",
    "JEPAStudent",
    "build_encoder",
    "build_student",
    "make_target_encoder",
    "target_tokens",
    "ema_update",
    "TARGET_NORMS",
]

TARGET_NORMS = ("none", "layer", "batch")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild the encoder and predictor modules (plain Python values).

    Attributes mirror the estimator's parameters; ``numerical_positions``,
    ``categorical_positions`` and ``cardinalities`` come from the fitted preprocessing, and
    ``numerical_bins`` from the training data when ``numerical_embedding="piecewise_linear"``.
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
    max_context_size: int
    numerical_bins: tuple[tuple[float, ...], ...] | None = None

    @property
    def n_features(self) -> int:
        """Number of feature tokens ``D``."""
        return len(self.numerical_positions) + len(self.categorical_positions)


def build_encoder(spec: ModelSpec) -> TabularEncoder:
    """Build a freshly initialised encoder (uses the global torch RNG: seed it first)."""
    bins = None
    if spec.numerical_bins is not None:
        bins = [torch.tensor(edges, dtype=torch.float32) for edges in spec.numerical_bins]
    tokenizer = FeatureTokenizer(
        numerical_positions=spec.numerical_positions,
        categorical_positions=spec.categorical_positions,
        cardinalities=spec.cardinalities,
        d_model=spec.d_model,
        n_cls_tokens=spec.n_cls_tokens,
        numerical_embedding=spec.numerical_embedding,
        numerical_bins=bins,
        feature_index_embedding=spec.feature_index_embedding,
        feature_type_embedding=spec.feature_type_embedding,
    )
    return TabularEncoder(
        tokenizer=tokenizer,
        n_layers=spec.n_layers,
        n_heads=spec.n_heads,
        ffn_dim=spec.ffn_dim,
        dropout=spec.dropout,
        activation=spec.activation,
        norm=spec.norm,
    )


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

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor, context: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Encode the context views and predict the target tokens.

        Shape
        -----
        - x_num: ``(B, n_numerical)``, x_cat: ``(B, n_categorical)``
        - context: ``(V, B, n_ctx)``, targets: ``(P, B, n_trgt)``
        - output: ``(P * V * B, n_trgt, d_model)``
        """
        return self.predictor(self.encoder(x_num, x_cat, context), context, targets)


def build_student(spec: ModelSpec) -> JEPAStudent:
    """Build context encoder and predictor (uses the global torch RNG: seed it first)."""
    encoder = build_encoder(spec)
    common = dict(d_model=spec.d_model, n_features=spec.n_features, n_cls_tokens=spec.n_cls_tokens)
    if spec.predictor == "transformer":
        predictor = TransformerPredictor(
            **common,
            predictor_d_model=spec.predictor_d_model,
            n_layers=spec.predictor_n_layers,
            n_heads=spec.predictor_n_heads,
            ffn_dim=spec.predictor_ffn_dim,
            dropout=spec.dropout,
            activation=spec.activation,
            norm=spec.norm,
        )
    else:
        predictor = MLPPredictor(
            **common,
            max_context_size=spec.max_context_size,
            hidden_dim=spec.predictor_d_model,
            dropout=spec.dropout,
            activation=spec.activation,
        )
    return JEPAStudent(encoder, predictor)


def make_target_encoder(context_encoder: TabularEncoder) -> TabularEncoder:
    """Return a frozen copy of the context encoder, in eval mode, without gradients."""
    target = copy.deepcopy(context_encoder)
    target.requires_grad_(False)
    return target.eval()


@torch.no_grad()
def target_tokens(
    target_encoder: TabularEncoder,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    targets: torch.Tensor,
    *,
    n_views: int,
    norm: str,
) -> torch.Tensor:
    """The target encoder's tokens at the target positions, paired with each context view.

    The encoder runs in eval mode (no dropout) on all tokens. ``norm`` normalises the targets:
    ``"layer"`` over each token's dimensions (as I-JEPA); ``"batch"`` standardises every
    (feature, dimension) across the batch's rows, so that the loss measures how well the
    row-to-row variation is predicted rather than the per-feature mean that dominates the tokens;
    ``"none"`` leaves them as they are.

    Shape
    -----
    - targets: ``(P, B, n_trgt)``
    - output: ``(P * n_views * B, n_trgt, d_model)``, ordered like the predictors' output
    """
    features = target_encoder(x_num, x_cat)[:, target_encoder.n_cls_tokens :]
    if norm == "layer":
        features = F.layer_norm(features, features.shape[-1:])
    elif norm == "batch":
        features = (features - features.mean(dim=0)) / (features.std(dim=0) + 1e-6)
    n_preds, batch, n_trgt = targets.shape
    width = features.shape[-1]
    index = targets.unsqueeze(-1).expand(-1, -1, -1, width)
    picked = torch.gather(features.unsqueeze(0).expand(n_preds, -1, -1, -1), 2, index)
    return picked.unsqueeze(1).expand(-1, n_views, -1, -1, -1).reshape(n_preds * n_views * batch, n_trgt, width)


@torch.no_grad()
def ema_update(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """``theta_target = m * theta_target + (1 - m) * theta_source`` for all parameters, fused."""
    target_params = list(target.parameters())
    source_params = [p.detach() for p in source.parameters()]
    torch._foreach_lerp_(target_params, source_params, 1.0 - momentum)

