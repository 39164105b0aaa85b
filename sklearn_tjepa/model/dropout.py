"""Dropout that draws only the dropped positions, for the small rates T-JEPA uses on CPUs.

``nn.Dropout`` draws one Bernoulli number per element and stores a mask as large as its input. At
the rates T-JEPA is tuned with (the paper's 0.0019), almost every draw keeps its element; on a
CPU, drawing and applying these masks took about 40% of a training step at the paper's size.
Here the gaps between dropped elements are drawn instead: for independent Bernoulli(p) trials the
gaps are independent Geometric(p) numbers, so their running sums are exactly the positions an
element-wise Bernoulli draw would drop. Only about ``p * numel`` numbers are drawn and kept.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SPARSE_DROPOUT_MAX_RATE", "bernoulli_positions", "sparse_dropout", "SparseDropout"]

#: Rates up to this use the sparse draw on CPUs; above it the positions would outweigh a dense mask.
SPARSE_DROPOUT_MAX_RATE = 0.1


def bernoulli_positions(numel: int, p: float, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """Sorted flat positions of the successes among ``numel`` independent Bernoulli(``p``) trials.

    Uses the global torch generator of ``device``, so a seeded run draws the same positions.

    Parameters
    ----------
    numel : int
        Number of trials.
    p : float
        Success probability in ``(0, 1)``.
    device : torch.device or str, default="cpu"
        Device of the returned positions.

    Returns
    -------
    LongTensor
        Strictly increasing positions in ``[0, numel)``.

    Shape
    -----
    ``(k,)`` with ``k ~ Binomial(numel, p)``
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got p={p}")
    mean = numel * p
    # gaps enough to pass numel with overwhelming probability; topped up in the rare other case
    n_gaps = int(mean + 6.0 * math.sqrt(mean) + 16)
    ends = torch.empty(n_gaps, dtype=torch.int64, device=device).geometric_(p).cumsum_(0)
    while int(ends[-1]) <= numel:
        more = torch.empty(n_gaps, dtype=torch.int64, device=device).geometric_(p).cumsum_(0)
        ends = torch.cat([ends, more.add_(ends[-1])])
    positions = ends.sub_(1)
    return positions[: int(torch.searchsorted(positions, numel))]


class _ZeroPositions(torch.autograd.Function):
    """``x * scale`` with the given flat positions zeroed; one pass forward and one backward."""

    @staticmethod
    def forward(ctx, x, positions, scale):
        ctx.save_for_backward(positions)
        ctx.scale = scale
        out = torch.mul(x, scale, out=torch.empty(x.shape, dtype=x.dtype, device=x.device))
        out.view(-1).index_fill_(0, positions, 0.0)
        return out

    @staticmethod
    def backward(ctx, grad):
        (positions,) = ctx.saved_tensors
        out = torch.mul(grad, ctx.scale, out=torch.empty(grad.shape, dtype=grad.dtype, device=grad.device))
        out.view(-1).index_fill_(0, positions, 0.0)
        return out, None, None


def sparse_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Training-mode dropout of ``x`` with rate ``p``, drawn as positions (:func:`bernoulli_positions`).

    Equal in distribution to ``F.dropout(x, p, training=True)``: every element is zeroed
    independently with probability ``p`` and the others are scaled by ``1 / (1 - p)``. Only the
    positions are kept for the backward pass.

    Shape
    -----
    any shape, unchanged
    """
    return _ZeroPositions.apply(x, bernoulli_positions(x.numel(), p, device=x.device), 1.0 / (1.0 - p))


class SparseDropout(nn.Module):
    """Dropout module: :func:`sparse_dropout` on CPUs for rates up to ``SPARSE_DROPOUT_MAX_RATE``.

    Identity in eval mode and when ``p == 0``; ``F.dropout`` on other devices and for larger rates.

    Parameters
    ----------
    p : float
        Dropout rate in ``[0, 1)``.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be in [0, 1), got p={p}")
        self.p = p

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply dropout in training mode.

        Shape
        -----
        any shape, unchanged
        """
        if not self.training or self.p == 0.0:
            return x
        if x.device.type == "cpu" and self.p <= SPARSE_DROPOUT_MAX_RATE:
            return sparse_dropout(x, self.p)
        return F.dropout(x, self.p, training=True)
