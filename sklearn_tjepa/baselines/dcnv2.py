"""DCN V2 (Wang et al., 2021) in the form benchmarked by Gorishniy et al. (2021)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["CrossBlock", "DCNv2"]


class CrossBlock(nn.Module):
    """One full-rank cross layer: ``x_next = dropout(x0 * linear(x)) + x``.

    Parameters
    ----------
    d : int
        Width of ``x0`` and ``x``.
    dropout : float
        Dropout on the interaction term.

    Shape
    -----
    - x0, x: ``(batch, d)``.
    - Output: ``(batch, d)``.
    """

    def __init__(self, d: int, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(d, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x0: Tensor, x: Tensor) -> Tensor:
        """``x0 * W(x) + x``, with dropout on the cross term (shapes as in the class docstring)."""
        return self.dropout(x0 * self.linear(x)) + x


class DCNv2(nn.Module):
    """Deep & Cross Network V2 over a flat feature vector.

    The input is projected to width ``d_block``; a cross network of ``n_cross_blocks``
    :class:`CrossBlock` and a deep network of ``n_deep_blocks`` Linear-ReLU-Dropout blocks run
    either one after the other (``stacked=True``) or side by side with their outputs concatenated
    (``stacked=False``, the "parallel" variant), followed by a linear head.

    Parameters
    ----------
    d_in : int
        Input width.
    d_out : int
        Output width.
    d_block : int
        Width of every cross and deep block.
    n_cross_blocks : int
        Number of cross blocks.
    n_deep_blocks : int
        Number of deep blocks.
    cross_dropout : float
        Dropout in the cross blocks.
    deep_dropout : float
        Dropout in the deep blocks.
    stacked : bool
        Stacked (cross then deep) rather than parallel.

    Shape
    -----
    - Input: ``(batch, d_in)``.
    - Output: ``(batch, d_out)``.

    Examples
    --------
    >>> import torch
    >>> m = DCNv2(d_in=5, d_out=2, d_block=8, n_cross_blocks=2, n_deep_blocks=1,
    ...           cross_dropout=0.0, deep_dropout=0.1, stacked=False)
    >>> m(torch.randn(3, 5)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        *,
        d_in: int,
        d_out: int,
        d_block: int,
        n_cross_blocks: int,
        n_deep_blocks: int,
        cross_dropout: float,
        deep_dropout: float,
        stacked: bool,
    ) -> None:
        super().__init__()
        self.first_linear = nn.Linear(d_in, d_block)
        self.cross_blocks = nn.ModuleList(
            [CrossBlock(d_block, cross_dropout) for _ in range(n_cross_blocks)]
        )
        self.deep_blocks = nn.Sequential(
            *(
                nn.Sequential(nn.Linear(d_block, d_block), nn.ReLU(), nn.Dropout(deep_dropout))
                for _ in range(n_deep_blocks)
            )
        )
        self.stacked = stacked
        self.head = nn.Linear(d_block if stacked else 2 * d_block, d_out)

    def forward(self, x: Tensor) -> Tensor:
        """Map the flat features to the output (see the class docstring for shapes)."""
        x0 = self.first_linear(x)
        x_cross = x0
        for block in self.cross_blocks:
            x_cross = block(x0, x_cross)
        if self.stacked:
            return self.head(self.deep_blocks(x_cross))
        return self.head(torch.cat([x_cross, self.deep_blocks(x0)], dim=1))
