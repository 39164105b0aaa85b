"""The CPU fast path (sparse dropout, fused attention with sparse weight dropout) against plain formulas.

Tolerances: fp32 results must match a straightforward reference to ``1e-5`` (absolute and
relative); under bf16 autocast to ``2e-2`` (bf16 keeps 8 significant bits, about 3e-3 relative
per rounding, and a block chains a few dozen of them).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_tjepa.model import ModelSpec, build_student
from sklearn_tjepa.model.attention import attention
from sklearn_tjepa.model.dropout import SPARSE_DROPOUT_MAX_RATE, SparseDropout, bernoulli_positions, sparse_dropout
from sklearn_tjepa.model.encoder import TransformerBlock, TransformerStack
from sklearn_tjepa.model.objective import target_tokens

FP32 = dict(atol=1e-5, rtol=1e-5)
BF16 = dict(atol=2e-2, rtol=2e-2)


def _spec(dropout=0.0):
    return ModelSpec(
        numerical_positions=(0, 1, 2, 3, 4, 5),
        categorical_positions=(),
        cardinalities=(),
        d_model=8,
        n_layers=2,
        n_heads=2,
        ffn_dim=16,
        dropout=dropout,
        activation="gelu",
        norm="pre",
        n_cls_tokens=1,
        numerical_embedding="linear",
        feature_index_embedding=True,
        feature_type_embedding=True,
        predictor="transformer",
        predictor_d_model=8,
        predictor_n_layers=2,
        predictor_n_heads=4,
        predictor_ffn_dim=16,
    )


def _masks(batch=10, n_ctx=2, n_trgt=3, n_preds=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    order = torch.rand(n_preds + 1, batch, 6, generator=generator).argsort(dim=-1)
    context = order[:1, :, :n_ctx]
    targets = order[1:, :, n_ctx : n_ctx + n_trgt]
    return context, targets


# ---------------------------------------------------------------------------------------------
# plain reference formulas


def _reference_attention(q, k, v, dropped=None, p=0.0):
    """softmax(q k^T / sqrt(d)), optionally zeroing the flat positions ``dropped`` and rescaling, @ v."""
    weights = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
    if dropped is not None:
        keep = torch.ones(weights.numel(), dtype=weights.dtype)
        keep[dropped] = 0.0
        weights = weights * keep.view(weights.shape) / (1.0 - p)
    return weights @ v


def _reference_block(block, x):
    """A pre-norm block written out with plain ops (no dropout)."""
    batch, length, width = x.shape
    heads = block.n_heads
    h = F.layer_norm(x, (width,), block.norm_attention.weight, block.norm_attention.bias)
    q, k, v = (h @ block.qkv.weight.T + block.qkv.bias).view(batch, length, 3, heads, -1).permute(2, 0, 3, 1, 4)
    attended = _reference_attention(q, k, v).transpose(1, 2).reshape(batch, length, width)
    x = x + attended @ block.out.weight.T + block.out.bias
    h = F.layer_norm(x, (width,), block.norm_ffn.weight, block.norm_ffn.bias)
    first, last = block.ffn[0], block.ffn[3]
    return x + F.gelu(h @ first.weight.T + first.bias) @ last.weight.T + last.bias


def _grads(module, *inputs):
    return [p.grad.clone() for p in module.parameters() if p.grad is not None] + [
        x.grad.clone() for x in inputs if x.grad is not None
    ]


# ---------------------------------------------------------------------------------------------
# sparse dropout


@settings(max_examples=60, deadline=None)
@given(numel=st.integers(0, 5000), p=st.floats(1e-4, 0.9), seed=st.integers(0, 2**31 - 1))
def test_bernoulli_positions_are_sorted_unique_and_in_range(numel, p, seed):
    torch.manual_seed(seed)
    positions = bernoulli_positions(numel, p)
    assert positions.dtype == torch.int64
    assert bool((positions >= 0).all()) and bool((positions < numel).all())
    assert bool((positions.diff() > 0).all())


def test_bernoulli_positions_match_independent_bernoulli_draws():
    # 4000 draws of 40 trials at p = 0.1: per-position rate, count mean/variance, pair correlation
    torch.manual_seed(0)
    n, p, draws = 40, 0.1, 4000
    hits = torch.zeros(draws, n)
    for row in range(draws):
        hits[row, bernoulli_positions(n, p)] = 1.0
    rate = hits.mean(dim=0)
    assert float((rate - p).abs().max()) < 0.025  # 5 standard errors of one position's rate
    counts = hits.sum(dim=1)
    assert abs(float(counts.mean()) - n * p) < 0.1  # standard error 0.03
    assert abs(float(counts.var()) - n * p * (1 - p)) < 0.4  # Binomial variance 3.6
    centred = hits - rate
    correlation = (centred.T @ centred) / draws / (p * (1 - p))
    off_diagonal = correlation - torch.diag(torch.diag(correlation))
    assert float(off_diagonal.abs().max()) < 0.1


def test_bernoulli_positions_tops_up_when_the_first_gaps_fall_short():
    # p close to 1 with many trials: the loop must keep drawing until the trials are covered
    torch.manual_seed(0)
    positions = bernoulli_positions(20000, 0.9)
    assert 17500 < positions.numel() < 18500
    assert int(positions[-1]) < 20000


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1])
def test_bernoulli_positions_rejects_rates_outside_the_open_interval(p):
    with pytest.raises(ValueError, match=f"p must be in \\(0, 1\\), got p={p}"):
        bernoulli_positions(10, p)


def test_sparse_dropout_values_and_gradient():
    torch.manual_seed(3)
    x = torch.randn(64, 9, requires_grad=True)
    p = 0.05
    torch.manual_seed(7)
    y = sparse_dropout(x, p)
    torch.manual_seed(7)
    keep = torch.ones(x.numel())
    keep[bernoulli_positions(x.numel(), p)] = 0.0
    keep = keep.view(x.shape)
    torch.testing.assert_close(y, x * keep / (1 - p), **FP32)
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(x.grad, keep / (1 - p), **FP32)


def test_sparse_dropout_module_is_identity_in_eval_and_at_rate_zero():
    x = torch.randn(5, 7)
    assert SparseDropout(0.0).train()(x) is x
    assert SparseDropout(0.01).eval()(x) is x


def test_sparse_dropout_module_uses_dense_dropout_above_the_sparse_rate():
    x = torch.ones(200, 50)
    p = 0.5
    assert p > SPARSE_DROPOUT_MAX_RATE
    torch.manual_seed(0)
    y = SparseDropout(p).train()(x)
    torch.manual_seed(0)
    torch.testing.assert_close(y, F.dropout(x, p, training=True))


@pytest.mark.parametrize("p", [1.0, -0.5])
def test_sparse_dropout_module_rejects_bad_rates(p):
    with pytest.raises(ValueError, match=f"p must be in \\[0, 1\\), got p={p}"):
        SparseDropout(p)


# ---------------------------------------------------------------------------------------------
# attention


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
    expected = _reference_attention(q, k, v)
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
    expected = _reference_attention(q, k, v, dropped, p)
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
    expected = _reference_attention(q, k, v)
    for p in (0.0, 0.045):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.manual_seed(2)
            out = attention(q, k, v, dropout=p)
        torch.manual_seed(2)
        dropped = bernoulli_positions(q.shape[0] * q.shape[1] * q.shape[2] ** 2, p) if p else None
        torch.testing.assert_close(out.float(), _reference_attention(q, k, v, dropped, p), **BF16)
    assert expected.dtype == torch.float32


# ---------------------------------------------------------------------------------------------
# blocks and the student


def test_block_matches_the_plain_formula_fp32():
    torch.manual_seed(0)
    block = TransformerBlock(d_model=8, n_heads=2, ffn_dim=16, dropout=0.0, activation="gelu", norm="pre")
    x = torch.randn(5, 7, 8, requires_grad=True)
    block(x).square().sum().backward()
    got = _grads(block, x)
    block.zero_grad()
    x.grad = None
    _reference_block(block, x).square().sum().backward()
    for a, b in zip(got, _grads(block, x)):
        torch.testing.assert_close(a, b, **FP32)


def test_block_state_dict_keys_are_unchanged():
    # pickled models from before the fast path load: same parameter names as nn.Dropout-based blocks
    block = TransformerBlock(d_model=8, n_heads=2, ffn_dim=16, dropout=0.1, activation="gelu", norm="pre")
    assert sorted(block.state_dict()) == sorted(
        f"{module}.{name}"
        for module in ("qkv", "out", "norm_attention", "norm_ffn", "ffn.0", "ffn.3")
        for name in ("weight", "bias")
    )


def _reference_student_loss(student, x_num, x_cat, context, targets, target_encoder):
    """The student's forward written with plain ops: repeat the context per target set, no dropout."""
    encoder, predictor = student.encoder, student.predictor
    tokens = encoder.tokenizer(x_num, x_cat)
    n_views, batch, n_ctx = context.shape
    visible = torch.stack([tokens[b, 1 + context[0, b]] for b in range(batch)])
    x = torch.cat([tokens[:, :1], visible], dim=1)
    for block in encoder.transformer.blocks:
        x = _reference_block(block, x)
    x = encoder.transformer.norm(x)
    x = predictor.embed(x)
    positions = predictor.positions
    x = torch.cat([x[:, :1] + positions[:1], x[:, 1:] + positions[1 + context[0]]], dim=1)
    n_preds, _, n_trgt = targets.shape
    sequences = torch.cat(
        [torch.cat([x, predictor.mask_token + positions[1 + targets[t]]], dim=1) for t in range(n_preds)]
    )
    for block in predictor.transformer.blocks:
        sequences = _reference_block(block, sequences)
    predicted = predictor.project(predictor.transformer.norm(sequences)[:, -n_trgt:])
    expected = target_tokens(target_encoder, x_num, x_cat, targets, n_views=1, norm="batch")
    return F.mse_loss(predicted, expected)


def _student_and_data(dropout=0.0):
    torch.manual_seed(0)
    student = build_student(_spec(dropout))
    target = build_student(_spec()).encoder.eval()
    target.load_state_dict(student.encoder.state_dict())
    x_num = torch.randn(10, 6, generator=torch.Generator().manual_seed(1))
    return student, target, x_num, torch.zeros(10, 0, dtype=torch.long), *_masks()


def test_student_loss_and_gradients_match_the_reference_fp32():
    student, target, x_num, x_cat, context, targets = _student_and_data()
    expected_tokens = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="batch")
    loss = F.mse_loss(student(x_num, x_cat, context, targets).predicted, expected_tokens)
    loss.backward()
    got = _grads(student)
    student.zero_grad()
    reference = _reference_student_loss(student, x_num, x_cat, context, targets, target)
    reference.backward()
    torch.testing.assert_close(loss, reference, **FP32)
    for a, b in zip(got, _grads(student)):
        torch.testing.assert_close(a, b, **FP32)


def test_student_loss_under_bf16_autocast_stays_close_to_fp32():
    student, target, x_num, x_cat, context, targets = _student_and_data()
    reference = _reference_student_loss(student, x_num, x_cat, context, targets, target)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected_tokens = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="batch")
        predicted = student(x_num, x_cat, context, targets).predicted
    loss = F.mse_loss(predicted.float(), expected_tokens.float())
    torch.testing.assert_close(loss, reference, **BF16)


def test_student_with_dropout_is_deterministic_from_the_seed():
    student, target, x_num, x_cat, context, targets = _student_and_data(dropout=0.05)
    results = []
    for _ in range(2):
        student.zero_grad()
        torch.manual_seed(42)
        loss = student(x_num, x_cat, context, targets).predicted.square().mean()
        loss.backward()
        results.append([loss.detach()] + _grads(student))
    for a, b in zip(*results):
        assert torch.equal(a, b)
    torch.manual_seed(43)
    assert not torch.equal(student(x_num, x_cat, context, targets).predicted.square().mean(), results[0][0])


def test_recomputed_blocks_give_the_same_loss_and_gradients():
    # activation checkpointing replays the dropout draws: identical results with and without it
    student, target, x_num, x_cat, context, targets = _student_and_data(dropout=0.05)
    results = []
    for recompute in (False, True):
        for module in student.modules():
            if isinstance(module, TransformerStack):
                module.recompute = recompute
        student.zero_grad()
        torch.manual_seed(42)
        loss = student(x_num, x_cat, context, targets).predicted.square().mean()
        loss.backward()
        results.append([loss.detach()] + _grads(student))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **FP32)
