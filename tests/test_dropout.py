"""Tests for sklearn_tjepa.model.dropout: Bernoulli positions, sparse dropout and its module,
against plain formulas."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from plain_formulas import FP32
from sklearn_tjepa.model.dropout import SPARSE_DROPOUT_MAX_RATE, SparseDropout, bernoulli_positions, sparse_dropout


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
