"""Plain reference formulas that the fast CPU kernels (sparse dropout, fused attention with sparse
weight dropout) are checked against, and the tolerances of those checks.

Tolerances: fp32 results must match a straightforward reference to ``1e-5`` (absolute and
relative); under bf16 autocast to ``2e-2`` (bf16 keeps 8 significant bits, about 3e-3 relative
per rounding, and a block chains a few dozen of them).
"""

import torch
import torch.nn.functional as F

FP32 = dict(atol=1e-5, rtol=1e-5)
BF16 = dict(atol=2e-2, rtol=2e-2)


def reference_attention(q, k, v, dropped=None, p=0.0):
    """softmax(q k^T / sqrt(d)), optionally zeroing the flat positions ``dropped`` and rescaling, @ v."""
    weights = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
    if dropped is not None:
        keep = torch.ones(weights.numel(), dtype=weights.dtype)
        keep[dropped] = 0.0
        weights = weights * keep.view(weights.shape) / (1.0 - p)
    return weights @ v


def reference_block(block, x):
    """A pre-norm block written out with plain ops (no dropout)."""
    batch, length, width = x.shape
    heads = block.n_heads
    h = F.layer_norm(x, (width,), block.norm_attention.weight, block.norm_attention.bias)
    q, k, v = (h @ block.qkv.weight.T + block.qkv.bias).view(batch, length, 3, heads, -1).permute(2, 0, 3, 1, 4)
    attended = reference_attention(q, k, v).transpose(1, 2).reshape(batch, length, width)
    x = x + attended @ block.out.weight.T + block.out.bias
    h = F.layer_norm(x, (width,), block.norm_ffn.weight, block.norm_ffn.bias)
    first, last = block.ffn[0], block.ffn[3]
    return x + F.gelu(h @ first.weight.T + first.bias) @ last.weight.T + last.bias


def grads(module, *inputs):
    """The gradients of ``module``'s parameters, then of ``inputs``, copied."""
    return [p.grad.clone() for p in module.parameters() if p.grad is not None] + [
        x.grad.clone() for x in inputs if x.grad is not None
    ]
