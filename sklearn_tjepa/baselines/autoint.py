"""AutoInt (Song et al., 2019) in the form benchmarked by Gorishniy et al. (2021)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["InteractingBlock", "AutoInt"]


class InteractingBlock(nn.Module):
    """One interacting layer: multi-head self-attention with a linear residual, then LayerNorm.

    ``x_next = relu(layernorm(linear(x) + dropout(attention(x))))``. The heads are concatenated
    without an output projection, as in AutoInt.

    Parameters
    ----------
    d_token : int
        Token size; a multiple of ``n_heads``.
    n_heads : int
        Number of attention heads.
    attention_dropout : float
        Dropout on the attention probabilities.
    residual_dropout : float
        Dropout on the attention output before the residual sum.

    Shape
    -----
    - Input: ``(batch, n_tokens, d_token)``.
    - Output: ``(batch, n_tokens, d_token)``.
    """

    def __init__(
        self, *, d_token: int, n_heads: int, attention_dropout: float, residual_dropout: float
    ) -> None:
        if d_token % n_heads:
            raise ValueError(
                f"d_token must be a multiple of n_heads, got {d_token=}, {n_heads=}"
            )
        super().__init__()
        self.n_heads = n_heads
        self.attention_dropout = attention_dropout
        self.W_q = nn.Linear(d_token, d_token)
        self.W_k = nn.Linear(d_token, d_token)
        self.W_v = nn.Linear(d_token, d_token)
        for linear in (self.W_q, self.W_k, self.W_v):
            nn.init.zeros_(linear.bias)
        self.linear = nn.Linear(d_token, d_token, bias=False)
        self.residual_dropout = nn.Dropout(residual_dropout)
        self.normalization = nn.LayerNorm(d_token)

    def _heads(self, x: Tensor) -> Tensor:
        batch, n_tokens, d = x.shape
        return x.reshape(batch, n_tokens, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        """Apply one interacting block (see the class docstring for shapes)."""
        attended = F.scaled_dot_product_attention(
            self._heads(self.W_q(x)),
            self._heads(self.W_k(x)),
            self._heads(self.W_v(x)),
            dropout_p=self.attention_dropout if self.training else 0.0,
        )
        attended = attended.transpose(1, 2).flatten(2)
        return F.relu(self.normalization(self.linear(x) + self.residual_dropout(attended)))


class AutoInt(nn.Module):
    """AutoInt backbone: interacting blocks over feature tokens, then a linear head.

    There is no [CLS] token: the head reads all tokens, flattened.

    Parameters
    ----------
    n_tokens : int
        Number of input tokens (one per feature).
    d_token : int
        Token size; a multiple of ``n_heads``.
    d_out : int
        Output width.
    n_blocks : int
        Number of :class:`InteractingBlock`.
    n_heads : int
        Number of attention heads (2 in the AutoInt paper).
    attention_dropout : float
        Dropout on the attention probabilities.
    residual_dropout : float
        Dropout on the attention output before the residual sum.

    Shape
    -----
    - Input: ``(batch, n_tokens, d_token)``.
    - Output: ``(batch, d_out)``.

    Examples
    --------
    >>> import torch
    >>> m = AutoInt(n_tokens=3, d_token=8, d_out=1, n_blocks=2, n_heads=2,
    ...             attention_dropout=0.1, residual_dropout=0.0)
    >>> m(torch.randn(4, 3, 8)).shape
    torch.Size([4, 1])
    """

    def __init__(
        self,
        *,
        n_tokens: int,
        d_token: int,
        d_out: int,
        n_blocks: int,
        n_heads: int,
        attention_dropout: float,
        residual_dropout: float,
    ) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            *(
                InteractingBlock(
                    d_token=d_token,
                    n_heads=n_heads,
                    attention_dropout=attention_dropout,
                    residual_dropout=residual_dropout,
                )
                for _ in range(n_blocks)
            )
        )
        self.head = nn.Linear(n_tokens * d_token, d_out)

    def forward(self, x: Tensor) -> Tensor:
        """Map feature tokens to the output (see the class docstring for shapes)."""
        return self.head(self.blocks(x).flatten(1))
