"""Tests for sklearn_tjepa.model.attention: the fused attention with sparse weight dropout against
the plain formula, in fp32 and under bf16 autocast."""

import torch
import torch.nn.functional as F

from plain_formulas import BF16, FP32, reference_attention
from sklearn_tjepa.model.attention import attention
from sklearn_tjepa.model.dropout import bernoulli_positions


def _qkv(batch=6, heads=2, length=9, head_dim=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(batch, length, 3, heads, head_dim, generator=generator).requires_grad_(True)
    return base, base.permute(2, 0, 3, 1, 4)  # strided q, k, v as the blocks pass them


def test_attention_without_dropout_matches_the_formula_fp32():
    base, (q, k, v) = _qkv()
    out = attention(q, k, v)
    out.square().sum().backward()
    grad = base.grad.clone()
    base.grad = None
    expected = reference_attention(q, k, v)
    expected.square().sum().backward()
    torch.testing.assert_close(out, expected, **FP32)
    torch.testing.assert_close(grad, base.grad, **FP32)


def test_attention_with_sparse_weight_dropout_matches_masked_softmax_fp32():
    # p * L = 0.045 * 9 <= 0.5: the fused kernel plus correction; the reference masks the same weights
    base, (q, k, v) = _qkv(batch=40)
    p = 0.045
    torch.manual_seed(11)
    out = attention(q, k, v, dropout=p)
    out.square().sum().backward()
    grad = base.grad.clone()
    base.grad = None
    torch.manual_seed(11)
    dropped = bernoulli_positions(q.shape[0] * q.shape[1] * q.shape[2] ** 2, p)
    assert dropped.numel() > 20  # rows with one and with several dropped weights are exercised
    expected = reference_attention(q, k, v, dropped, p)
    expected.square().sum().backward()
    torch.testing.assert_close(out, expected, **FP32)
    torch.testing.assert_close(grad, base.grad, **FP32)


def test_attention_with_large_dropout_falls_back_to_sdpa_dropout():
    base, (q, k, v) = _qkv()
    torch.manual_seed(5)
    out = attention(q, k, v, dropout=0.3)
    torch.manual_seed(5)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, dropout_p=0.3))


def test_attention_under_bf16_autocast_stays_close_to_fp32():
    base, (q, k, v) = _qkv(batch=40)
    expected = reference_attention(q, k, v)
    for p in (0.0, 0.045):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.manual_seed(2)
            out = attention(q, k, v, dropout=p)
        torch.manual_seed(2)
        dropped = bernoulli_positions(q.shape[0] * q.shape[1] * q.shape[2] ** 2, p) if p else None
        torch.testing.assert_close(out.float(), reference_attention(q, k, v, dropped, p), **BF16)
    assert expected.dtype == torch.float32


def test_bf16_inputs_on_the_cpu_are_attended_in_float32():
    # bf16 attention backward on CPUs is several times slower than float32 at these head widths
    base, (q, k, v) = _qkv(batch=40, length=21, head_dim=8)
    for p in (0.0, 0.045):
        q16, k16, v16 = (t.detach().bfloat16().requires_grad_(True) for t in (q, k, v))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.manual_seed(3)
            out = attention(q16, k16, v16, dropout=p)
        torch.manual_seed(3)
        expected = attention(q16.detach().float(), k16.detach().float(), v16.detach().float(), dropout=p)
        assert out.dtype == torch.bfloat16
        torch.testing.assert_close(out, expected.bfloat16(), rtol=0, atol=0)
        out.float().square().sum().backward()
        assert q16.grad.dtype == torch.bfloat16 and torch.isfinite(q16.grad.float()).all()
