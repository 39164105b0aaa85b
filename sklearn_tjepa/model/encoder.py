"""Transformer blocks and the tabular encoder that runs them on a visible subset of tokens."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from sklearn_tjepa.model.attention import attention
from sklearn_tjepa.model.dropout import SparseDropout
from sklearn_tjepa.model.tokenizer import FeatureTokenizer

__all__ = ["TransformerBlock", "TransformerStack", "TabularEncoder", "ACTIVATIONS", "NORMS"]

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}
NORMS = ("pre", "post")


class TransformerBlock(nn.Module):
    """Multi-head self-attention and a feed-forward network, each with a residual connection.

    Parameters
    ----------
    d_model : int
        Token width; divisible by ``n_heads``.
    n_heads : int
        Attention heads.
    ffn_dim : int
        Hidden width of the feed-forward network.
    dropout : float
        Dropout on attention weights, feed-forward hidden units and residual branches (drawn
        sparsely on CPUs, see :mod:`sklearn_tjepa.model.dropout` and :mod:`~sklearn_tjepa.model.attention`).
    activation : str
        Feed-forward activation, a key of ``ACTIVATIONS``.
    norm : {"pre", "post"}
        Layer normalisation before each sub-layer (pre) or after each residual sum (post).
    """

    def __init__(self, *, d_model: int, n_heads: int, ffn_dim: int, dropout: float, activation: str, norm: str):
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.pre_norm = norm == "pre"
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.norm_attention = nn.LayerNorm(d_model)
        self.norm_ffn = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ffn_dim),
            ACTIVATIONS[activation](),
            SparseDropout(dropout),
            nn.Linear(ffn_dim, d_model),
        )
        self.residual_dropout = SparseDropout(dropout)

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = (
            self.qkv(x).view(batch, length, 3, self.n_heads, width // self.n_heads).permute(2, 0, 3, 1, 4)
        )
        attended = attention(q, k, v, dropout=self.dropout if self.training else 0.0)
        return self.out(attended.transpose(1, 2).reshape(batch, length, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Shape
        -----
        ``(B, L, d_model) -> (B, L, d_model)``
        """
        if self.pre_norm:
            x = x + self.residual_dropout(self._attention(self.norm_attention(x)))
            return x + self.residual_dropout(self.ffn(self.norm_ffn(x)))
        x = self.norm_attention(x + self.residual_dropout(self._attention(x)))
        return self.norm_ffn(x + self.residual_dropout(self.ffn(x)))


class TransformerStack(nn.Module):
    """``n_layers`` transformer blocks followed by a final LayerNorm.

    Parameters are those of :class:`TransformerBlock` plus ``n_layers`` and ``recompute``.

    Parameters
    ----------
    recompute : bool, default=False
        In training with gradients, keep only each block's input for the backward pass and
        recompute the block there (activation checkpointing; dropout draws are replayed, so
        results are unchanged). Memory then no longer grows with the activations of every
        layer, for about one more forward pass of time.
    """

    def __init__(
        self, *, n_layers: int, d_model: int, n_heads: int, ffn_dim: int, dropout: float, activation: str, norm: str, recompute: bool = False
    ):
        super().__init__()
        self.recompute = recompute
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d_model=d_model, n_heads=n_heads, ffn_dim=ffn_dim, dropout=dropout, activation=activation, norm=norm
            )
            for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the blocks.

        Shape
        -----
        ``(B, L, d_model) -> (B, L, d_model)``
        """
        recompute = self.recompute and self.training and torch.is_grad_enabled()
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if recompute else block(x)
        return self.norm(x)


class TabularEncoder(nn.Module):
    """Tokenizer plus transformer; optionally runs on the CLS tokens and a subset of features.

    Parameters
    ----------
    tokenizer : FeatureTokenizer
        Turns ``(x_num, x_cat)`` into ``n_cls_tokens + D`` tokens.
    n_layers, n_heads, ffn_dim, dropout, activation, norm
        See :class:`TransformerBlock`.
    recompute : bool, default=False
        Activation checkpointing, see :class:`TransformerStack`.
    """

    def __init__(
        self, *, tokenizer: FeatureTokenizer, n_layers: int, n_heads: int, ffn_dim: int, dropout: float, activation: str, norm: str, recompute: bool = False
    ):
        super().__init__()
        self.tokenizer = tokenizer
        d_model = tokenizer.cls.shape[1]
        self.transformer = TransformerStack(
            n_layers=n_layers, d_model=d_model, n_heads=n_heads, ffn_dim=ffn_dim, dropout=dropout, activation=activation, norm=norm,
            recompute=recompute,
        )

    @property
    def n_cls_tokens(self) -> int:
        """Number of CLS tokens in front of the feature tokens."""
        return self.tokenizer.n_cls_tokens

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Encode a batch, on all tokens or on CLS plus each context set.

        Parameters
        ----------
        x_num, x_cat : Tensor
            See :meth:`FeatureTokenizer.forward`.
        context : LongTensor or None
            Feature indices visible to the encoder, one set per view; ``None`` encodes every token.

        Returns
        -------
        Tensor
            Encoded tokens; with ``context``, the views are stacked along the batch dimension
            (view-major: rows ``v * B .. (v + 1) * B - 1`` are view ``v``).

        Shape
        -----
        - context: ``(V, B, n_ctx)``
        - output: ``(B, n_cls_tokens + D, d_model)`` without context,
          ``(V * B, n_cls_tokens + n_ctx, d_model)`` with it.
        """
        tokens = self.tokenizer(x_num, x_cat)
        if context is not None:
            n_views, batch, n_ctx = context.shape
            width = tokens.shape[-1]
            n_cls = self.n_cls_tokens
            features = tokens[:, n_cls:].unsqueeze(0).expand(n_views, -1, -1, -1)
            index = context.unsqueeze(-1).expand(-1, -1, -1, width)
            visible = torch.gather(features, 2, index).reshape(n_views * batch, n_ctx, width)
            cls = tokens[:, :n_cls].repeat(n_views, 1, 1)
            tokens = torch.cat([cls, visible], dim=1)
        return self.transformer(tokens)
