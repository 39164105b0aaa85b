r"""Scaled dot-product attention with dropout on the weights, kept on PyTorch's fused CPU kernel.

On CPUs, ``F.scaled_dot_product_attention`` runs a fused (flash) kernel only without dropout; with
``dropout_p > 0`` it falls back to a path that materialises and masks every attention matrix,
which at the paper's size made the step about twice as slow. At small rates only a few attention
weights are dropped, so here the fused kernel computes the full attention and the dropped weights'
contributions are subtracted afterwards:

.. math::

    \mathrm{dropout}(P) V = \frac{1}{1 - p}\Big(P V - \sum_{(i, j)\,\mathrm{dropped}} P_{ij} v_j\Big)

where :math:`P_{ij} = \exp(s_{ij} - \mathrm{logsumexp}_l\, s_{il})` is recomputed only for the
rows that have a dropped weight. The result equals attention with element-wise dropout on the
weights exactly (up to rounding); gradients follow by autograd.

Under bf16 autocast on a CPU the attention itself runs in float32 (the projections around it stay
bf16): at this model's head widths (4 to 32 values per head) PyTorch's CPU attention backward in
bf16 was 3 to 8 times slower than in float32, measured with
``python benchmarks/speed.py --attention-profile`` (``docs/performance.md``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sklearn_tjepa.model.dropout import SPARSE_DROPOUT_MAX_RATE, bernoulli_positions

__all__ = ["attention", "SPARSE_ATTENTION_MAX_DROPS_PER_ROW"]

#: Expected dropped weights per query row (``p * L``) up to which dropout is applied as a correction.
SPARSE_ATTENTION_MAX_DROPS_PER_ROW = 0.5


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, dropout: float = 0.0) -> torch.Tensor:
    """``softmax(q k^T / sqrt(head_dim))``, with dropout of rate ``dropout`` on the weights, times ``v``.

    Pass ``dropout=0`` in eval mode. On CPUs, bf16 or fp16 inputs are attended in float32 and the
    result cast back. On CPUs with ``dropout * L <= SPARSE_ATTENTION_MAX_DROPS_PER_ROW``
    (and ``dropout <= SPARSE_DROPOUT_MAX_RATE``) the fused kernel plus a sparse correction is used
    (module docstring); otherwise ``F.scaled_dot_product_attention`` with ``dropout_p``.

    Parameters
    ----------
    q, k, v : Tensor
        Queries, keys and values per head (any strides).
    dropout : float, default=0.0
        Dropout rate on the attention weights.

    Returns
    -------
    Tensor

    Shape
    -----
    - q, k, v: ``(B, H, L, head_dim)``
    - output: ``(B, H, L, head_dim)``
    """
    if q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16):
        # NOTE[DIFF]: float32 attention inside reduced-precision autocast on CPUs (module docstring).
        with torch.autocast("cpu", enabled=False):
            return attention(q.float(), k.float(), v.float(), dropout=dropout).to(q.dtype)
    if dropout == 0.0:
        return F.scaled_dot_product_attention(q, k, v)
    length = q.shape[2]
    sparse = (
        q.device.type == "cpu"
        and dropout <= SPARSE_DROPOUT_MAX_RATE
        and dropout * length <= SPARSE_ATTENTION_MAX_DROPS_PER_ROW
    )
    if not sparse:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
    return _fused_attention_with_sparse_dropout(q, k, v, dropout)


def _fused_attention_with_sparse_dropout(q, k, v, p):
    batch, heads, length, head_dim = q.shape
    out = F.scaled_dot_product_attention(q, k, v)
    dropped = bernoulli_positions(batch * heads * length * length, p, device=q.device)
    if dropped.numel():
        flat_row = torch.div(dropped, length, rounding_mode="floor")  # query row among B * H * L
        column = dropped - flat_row * length  # key position
        rows, slot = torch.unique_consecutive(flat_row, return_inverse=True)
        pair = torch.div(rows, length, rounding_mode="floor")
        query = rows - pair * length
        b = torch.div(pair, heads, rounding_mode="floor")
        h = pair - b * heads
        # the affected rows' scores against all keys of their (row, head): (R, L)
        scores = torch.matmul(q[b, h, query].unsqueeze(1), k[b, h].transpose(1, 2)).squeeze(1) * head_dim**-0.5
        log_norm = torch.logsumexp(scores.float(), dim=-1)
        weight = torch.exp(scores[slot, column].float() - log_norm[slot]).to(v.dtype)
        removed = torch.zeros(rows.numel(), head_dim, dtype=out.dtype, device=out.device).index_add(
            0, slot, (weight.unsqueeze(-1) * v[b[slot], h[slot], column]).to(out.dtype)
        )
        out = out.index_put((b, h, query), -removed, accumulate=True)
    return out * (1.0 / (1.0 - p))
