"""The network that is fine-tuned: a pretrained T-JEPA encoder, a readout of its tokens and a head."""

from __future__ import annotations

import torch
from rtdl_revisiting_models import MLP
from torch import nn

from sklearn_tjepa.model.encoder import TabularEncoder
from sklearn_tjepa.model.jepa import ModelSpec, build_encoder
from sklearn_tjepa.inference import OUTPUTS, pool_tokens

__all__ = ["READOUTS", "FineTuneNetwork", "build_finetune_network"]

#: How the encoder's tokens become the head's input: all tokens concatenated, the first CLS
#: token, or the mean of the feature tokens (the same choices as ``TJEPATransformer.output``).
READOUTS = OUTPUTS


class FineTuneNetwork(nn.Module):
    """Encoder, token readout and head, trained end to end.

    Parameters
    ----------
    encoder : TabularEncoder
        The (pretrained) encoder; every token is visible.
    readout : {"flatten", "cls", "mean"}
        See :data:`READOUTS`.
    head : nn.Module
        Maps the readout vector to the ``d_out`` outputs.

    Notes
    -----
    Parameter names start with ``encoder.`` or ``head.``; the estimators use these prefixes to
    give the encoder its own learning rate and to freeze it.
    """

    def __init__(self, encoder: TabularEncoder, *, readout: str, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.readout = readout
        self.head = head

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Predict logits (classification) or the standardized target (regression).

        Shape
        -----
        - x_num: ``(B, n_numerical)`` float32, NaN for a missing value
        - x_cat: ``(B, n_categorical)`` int64, 0 for a missing or unseen category
        - output: ``(B, d_out)``
        """
        tokens = self.encoder(x_num, x_cat)
        return self.head(pool_tokens(tokens, self.readout, self.encoder.n_cls_tokens))


def _readout_width(spec: ModelSpec, readout: str) -> int:
    if readout == "flatten":
        return (spec.n_cls_tokens + spec.n_features) * spec.d_model
    return spec.d_model


def build_finetune_network(
    spec: ModelSpec,
    encoder_state: dict[str, torch.Tensor],
    *,
    readout: str,
    d_out: int,
    head_n_blocks: int,
    head_d_block: int,
    head_dropout: float,
) -> FineTuneNetwork:
    """Build a trainable copy of a pretrained encoder with a freshly initialised head.

    The encoder is rebuilt from ``spec`` and the weights of ``encoder_state`` are copied into it,
    so training it leaves the tensors of ``encoder_state`` untouched. The head is a LayerNorm on
    the readout followed by a linear layer (``head_n_blocks=0``) or by the MLP of Gorishniy et
    al. (2021) with ``head_n_blocks`` Linear-ReLU-Dropout blocks of width ``head_d_block``.
    Initialisation draws from the global torch generator: seed it first.

    Parameters
    ----------
    spec : ModelSpec
        Architecture of the pretrained encoder.
    encoder_state : dict of str to Tensor
        Its ``state_dict``.
    readout : {"flatten", "cls", "mean"}
        See :data:`READOUTS`.
    d_out : int
        Number of outputs (classes, or 1 for regression).
    head_n_blocks, head_d_block : int
        Hidden blocks of the head and their width.
    head_dropout : float
        Dropout in the head's hidden blocks.

    Returns
    -------
    FineTuneNetwork
    """
    encoder = build_encoder(spec)
    encoder.load_state_dict(encoder_state)
    d_in = _readout_width(spec, readout)
    if head_n_blocks == 0:
        projection = nn.Linear(d_in, d_out)
    else:
        projection = MLP(
            d_in=d_in, d_out=d_out, n_blocks=head_n_blocks, d_block=head_d_block, dropout=head_dropout
        )
    head = nn.Sequential(nn.LayerNorm(d_in), projection)
    return FineTuneNetwork(encoder, readout=readout, head=head)
