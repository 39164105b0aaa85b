"""Predictors: from context tokens to predictions of the target encoder's target tokens.

Both predictors take the context encoder's output for ``V`` context views and the ``P`` target
sets of a batch, and predict every (target set, view) pair. Their output is ordered
target-set-major, then view, then row: row ``(p * V + v) * B + b``.
"""

from __future__ import annotations

import torch
from torch import nn

from sklearn_tjepa.model.dropout import SparseDropout
from sklearn_tjepa.model.encoder import ACTIVATIONS, TransformerStack
from sklearn_tjepa.model.masks import place_by_feature
from sklearn_tjepa.model.tokenizer import sinusoidal_positions

__all__ = ["TransformerPredictor", "MLPPredictor", "PREDICTORS"]

PREDICTORS = ("transformer", "mlp")


def _pair_views_with_targets(n_views: int, targets: torch.Tensor) -> torch.Tensor:
    """Repeat target indices once per view.

    Shape
    -----
    ``(P, B, n_trgt) -> (P * V * B, n_trgt)``
    """
    n_preds, batch, n_trgt = targets.shape
    return targets.unsqueeze(1).expand(-1, n_views, -1, -1).reshape(n_preds * n_views * batch, n_trgt)


class TransformerPredictor(nn.Module):
    """I-JEPA style predictor: context tokens plus position-coded mask tokens through a transformer.

    Parameters
    ----------
    d_model : int
        Width of the encoder tokens (input and output).
    n_features : int
        Number of feature tokens ``D``.
    n_cls_tokens : int
        CLS tokens at the front of every context sequence.
    predictor_d_model : int
        Width inside the predictor.
    n_layers, n_heads, ffn_dim, dropout, activation, norm
        Transformer settings of the predictor (see :class:`~sklearn_tjepa.model.encoder.TransformerBlock`).
    recompute : bool, default=False
        Activation checkpointing (see :class:`~sklearn_tjepa.model.encoder.TransformerStack`).
    """

    def __init__(
        self, *, d_model: int, n_features: int, n_cls_tokens: int, predictor_d_model: int, n_layers: int, n_heads: int, ffn_dim: int, dropout: float, activation: str, norm: str, recompute: bool = False
    ):
        super().__init__()
        self.n_cls_tokens = n_cls_tokens
        self.embed = nn.Linear(d_model, predictor_d_model)
        self.mask_token = nn.Parameter(torch.zeros(predictor_d_model).normal_(std=0.02))
        self.register_buffer(
            "positions", sinusoidal_positions(n_cls_tokens + n_features, predictor_d_model), persistent=False
        )
        self.transformer = TransformerStack(
            n_layers=n_layers, d_model=predictor_d_model, n_heads=n_heads, ffn_dim=ffn_dim, dropout=dropout, activation=activation, norm=norm,
            recompute=recompute,
        )
        self.project = nn.Linear(predictor_d_model, d_model)

    def forward(self, encoded: torch.Tensor, context: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Predict target tokens.

        Parameters
        ----------
        encoded : Tensor
            Context encoder output: CLS tokens then the context tokens of each view.
        context : LongTensor
            Context feature indices.
        targets : LongTensor
            Target feature indices.

        Returns
        -------
        Tensor
            Predicted target tokens.

        Shape
        -----
        - encoded: ``(V * B, n_cls + n_ctx, d_model)``
        - context: ``(V, B, n_ctx)``
        - targets: ``(P, B, n_trgt)``
        - output: ``(P * V * B, n_trgt, d_model)``
        """
        n_views, batch, _ = context.shape
        n_preds, _, n_trgt = targets.shape
        n_cls = self.n_cls_tokens
        x = self.embed(encoded)
        x = torch.cat(
            [x[:, :n_cls] + self.positions[:n_cls], x[:, n_cls:] + self.positions[n_cls + context.reshape(n_views * batch, -1)]],
            dim=1,
        )
        mask_tokens = self.mask_token + self.positions[n_cls + _pair_views_with_targets(n_views, targets)]
        # one copy: the context of every view, broadcast over the P target sets, then their mask tokens
        rows, width = n_views * batch, x.shape[-1]
        x = torch.cat(
            [x.unsqueeze(0).expand(n_preds, -1, -1, -1), mask_tokens.view(n_preds, rows, n_trgt, width)], dim=2
        ).view(n_preds * rows, -1, width)
        x = self.transformer(x)
        return self.project(x[:, -n_trgt:])


class MLPPredictor(nn.Module):
    """Predict every feature token from the context, laid out by feature, with one MLP per feature.

    The input of every MLP is the CLS tokens, then ``D`` slots of width ``d_model`` where slot
    ``j`` holds the context token of feature ``j`` (zeros when feature ``j`` is not in the
    context), then a ``D``-wide indicator of the visible features. Each input weight therefore
    always reads the same feature, whatever order the masks list the context in. Each MLP is
    ``Linear -> Dropout -> LayerNorm -> activation -> Linear``; all ``D`` of them run as one
    batched matmul over stacked weights, and the target positions are then gathered.

    Parameters
    ----------
    d_model : int
        Width of the encoder tokens.
    n_features : int
        Number of feature tokens ``D``.
    n_cls_tokens : int
        CLS tokens at the front of every context sequence.
    hidden_dim : int
        Hidden width of each per-feature MLP.
    dropout : float
        Dropout after the first layer.
    activation : str
        A key of ``ACTIVATIONS``.
    """

    def __init__(self, *, d_model: int, n_features: int, n_cls_tokens: int, hidden_dim: int, dropout: float, activation: str):
        super().__init__()
        self.n_features = n_features
        self.n_cls_tokens = n_cls_tokens
        in_dim = (n_cls_tokens + n_features) * d_model + n_features
        self.weight_in = nn.Parameter(torch.empty(n_features, in_dim, hidden_dim).uniform_(-(in_dim**-0.5), in_dim**-0.5))
        self.bias_in = nn.Parameter(torch.zeros(n_features, hidden_dim))
        self.dropout = SparseDropout(dropout)
        self.norm = nn.LayerNorm(hidden_dim)
        self.activation = ACTIVATIONS[activation]()
        self.weight_out = nn.Parameter(torch.empty(n_features, hidden_dim, d_model).uniform_(-(hidden_dim**-0.5), hidden_dim**-0.5))
        self.bias_out = nn.Parameter(torch.zeros(n_features, d_model))

    def forward(self, encoded: torch.Tensor, context: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Predict target tokens (same contract as :meth:`TransformerPredictor.forward`).

        Shape
        -----
        - encoded: ``(V * B, n_cls + n_ctx, d_model)``
        - context: ``(V, B, n_ctx)``
        - targets: ``(P, B, n_trgt)``
        - output: ``(P * V * B, n_trgt, d_model)``
        """
        n_views, batch, n_ctx = context.shape
        n_preds = targets.shape[0]
        rows, _, width = encoded.shape
        n_cls = self.n_cls_tokens
        slots, visible = place_by_feature(encoded[:, n_cls:], context.reshape(rows, n_ctx), self.n_features)
        inputs = torch.cat([encoded[:, :n_cls].reshape(rows, -1), slots.reshape(rows, -1), visible], dim=1)
        hidden = torch.einsum("ri,fih->rfh", inputs, self.weight_in) + self.bias_in
        hidden = self.activation(self.norm(self.dropout(hidden)))
        every_feature = torch.einsum("rfh,fhd->rfd", hidden, self.weight_out) + self.bias_out
        index = _pair_views_with_targets(n_views, targets)
        source = every_feature.repeat(n_preds, 1, 1)
        return torch.gather(source, 1, index.unsqueeze(-1).expand(-1, -1, width))
