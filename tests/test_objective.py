"""Tests of the objective's parts: context laid out by feature (MLP predictor), inputs hidden as
missing during pretraining, the variance/covariance term, and targets computed in eval mode
without gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_mixed_frame
from sklearn_tjepa.inference import pool_tokens
from sklearn_tjepa.model import MLPPredictor, objective, place_by_feature
from sklearn_tjepa.model.objective import hide_inputs, variance_covariance_loss
from sklearn_tjepa.training import loop

# ---------------------------------------------------------------- context laid out by feature


def _shuffled_context(n_views, batch, n_features, n_ctx, seed):
    generator = torch.Generator().manual_seed(seed)
    order = torch.rand(n_views * batch, n_features, generator=generator).argsort(dim=1)
    return order[:, :n_ctx].reshape(n_views, batch, n_ctx)


def test_place_by_feature():
    tokens = torch.arange(2 * 2 * 3, dtype=torch.float32).view(2, 2, 3)
    index = torch.tensor([[3, 0], [1, 2]])
    slots, visible = place_by_feature(tokens, index, 4)
    assert slots.shape == (2, 4, 3)
    torch.testing.assert_close(slots[0, 3], tokens[0, 0])
    torch.testing.assert_close(slots[0, 0], tokens[0, 1])
    assert torch.equal(slots[0, 1], torch.zeros(3)) and torch.equal(slots[1, 0], torch.zeros(3))
    assert visible.tolist() == [[1, 0, 0, 1], [0, 1, 1, 0]]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), n_views=st.integers(1, 2), n_cls=st.integers(1, 2))
def test_mlp_predictor_ignores_the_order_of_the_context(seed, n_views, n_cls):
    """The masks list each row's context in random order; the MLP predictor must read feature
    ``j`` with the same weights whatever its position in that list (it used to flatten by
    position, so one weight saw a different feature in every row)."""
    torch.manual_seed(seed)
    batch, n_features, n_ctx, width = 3, 6, 3, 8
    predictor = MLPPredictor(
        d_model=width, n_features=n_features, n_cls_tokens=n_cls, hidden_dim=8, dropout=0.0, activation="gelu"
    )
    context = _shuffled_context(n_views, batch, n_features, n_ctx, seed)
    encoded = torch.randn(n_views * batch, n_cls + n_ctx, width)
    targets = torch.stack([_shuffled_context(1, batch, n_features, 2, seed + 1)[0]] * 2)
    permutation = torch.randperm(n_ctx)
    permuted_encoded = torch.cat([encoded[:, :n_cls], encoded[:, n_cls:][:, permutation]], dim=1)
    with torch.no_grad():
        expected = predictor(encoded, context, targets)
        got = predictor(permuted_encoded, context[:, :, permutation], targets)
    torch.testing.assert_close(got, expected)


def test_mlp_predictor_sees_which_features_are_visible():
    """Two rows whose context tokens are equal but belong to different features get different
    predictions."""
    torch.manual_seed(0)
    predictor = MLPPredictor(d_model=8, n_features=5, n_cls_tokens=1, hidden_dim=8, dropout=0.0, activation="gelu")
    encoded = torch.randn(1, 3, 8).expand(2, -1, -1)
    context = torch.tensor([[[0, 1], [2, 3]]])
    targets = torch.tensor([[[4], [4]]])
    with torch.no_grad():
        out = predictor(encoded, context, targets)
    assert not torch.allclose(out[0], out[1])


# ---------------------------------------------------------------- missing values in pretraining


def test_hide_inputs():
    generator = torch.Generator().manual_seed(0)
    x_num = torch.randn(2000, 3)
    x_cat = torch.randint(1, 5, (2000, 2))
    same_num, same_cat = hide_inputs(x_num, x_cat, 0.0, generator)
    assert torch.equal(same_num, x_num) and torch.equal(same_cat, x_cat)
    num, cat = hide_inputs(x_num, x_cat, 0.2, generator)
    hidden_num, hidden_cat = torch.isnan(num), cat == 0
    assert 0.17 < hidden_num.float().mean() < 0.23 and 0.17 < hidden_cat.float().mean() < 0.23
    assert torch.equal(num[~hidden_num], x_num[~hidden_num]) and torch.equal(cat[~hidden_cat], x_cat[~hidden_cat])
    assert not torch.isnan(x_num).any() and (x_cat > 0).all()  # the inputs are not modified


def _missing_embeddings(est):
    tokenizer = est.encoder_.tokenizer
    rows = [table.weight[0].clone() for table in tokenizer.categorical.embeddings]
    return tokenizer.numerical_missing.clone(), torch.stack(rows)


@pytest.mark.parametrize("numerical_embedding", ["linear", "piecewise_linear"])
def test_missing_embeddings_are_trained_on_complete_data(make, numerical_embedding):
    """Fitted on rows without a missing value, the missing-number vectors and the categories'
    missing/unknown rows used to stay at their random initial values (no gradient ever reached
    them); hiding a share of the student's inputs trains them."""
    frame = make_mixed_frame(n_rows=160)
    assert not frame.isna().any().any()
    params = dict(numerical_embedding=numerical_embedding, max_epochs=3, lr=1e-2)
    initial_num, initial_cat = _missing_embeddings(make(**{**params, "max_epochs": 0}).fit(frame))
    untouched_num, untouched_cat = _missing_embeddings(make(**params, missing_share=0.0).fit(frame))
    torch.testing.assert_close(untouched_num, initial_num)
    torch.testing.assert_close(untouched_cat, initial_cat)
    trained_num, trained_cat = _missing_embeddings(make(**params, missing_share=0.1).fit(frame))
    assert (trained_num - initial_num).abs().amax(dim=1).min() > 1e-4  # every numerical feature's vector
    assert (trained_cat - initial_cat).abs().amax(dim=1).min() > 1e-4  # every categorical feature's row 0


def test_missing_values_are_hidden_from_the_student_only(make, monkeypatch):
    """The targets come from the complete rows; only the student's input has values hidden."""
    seen = {"student": [], "target": []}
    original_target_tokens = loop.jepa_loss.__globals__["target_tokens"]

    def spy_target_tokens(target_encoder, x_num, x_cat, *args, **kwargs):
        seen["target"].append(bool(torch.isnan(x_num).any()) or bool((x_cat == 0).any()))
        return original_target_tokens(target_encoder, x_num, x_cat, *args, **kwargs)

    def spy_student(module, inputs):
        x_num, x_cat = inputs[0], inputs[1]
        seen["student"].append(bool(torch.isnan(x_num).any()) or bool((x_cat == 0).any()))

    monkeypatch.setitem(loop.jepa_loss.__globals__, "target_tokens", spy_target_tokens)
    monkeypatch.setattr(loop, "build_student", _with_pre_hook(loop.build_student, spy_student))
    make(missing_share=0.2, max_epochs=1).fit(make_mixed_frame(n_rows=96))
    assert seen["target"] and not any(seen["target"])
    assert seen["student"] and all(seen["student"])


def _with_pre_hook(build, hook):
    def build_with_hook(*args, **kwargs):
        student = build(*args, **kwargs)
        student.register_forward_pre_hook(hook)
        return student

    return build_with_hook


def test_missing_share_changes_nothing_but_the_training(make):
    """The mechanism lives in the objective only: the architecture, the initial encoder and
    transform are the same with and without it, and transform hides nothing."""
    frame = make_mixed_frame(n_rows=96)
    untrained = [make(max_epochs=0, missing_share=share).fit(frame) for share in (0.0, 0.3)]
    assert untrained[0].model_spec_ == untrained[1].model_spec_
    np.testing.assert_array_equal(untrained[0].transform(frame), untrained[1].transform(frame))
    est = make(missing_share=0.3).fit(frame)
    table = est.preprocessor_.transform(frame)
    with torch.no_grad():
        tokens = est.encoder_(torch.from_numpy(table.x_num), torch.from_numpy(table.x_cat))
    expected = pool_tokens(tokens, "flatten", est.encoder_.n_cls_tokens).numpy()
    np.testing.assert_allclose(est.transform(frame), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(est.transform(frame), est.transform(frame))


def test_missing_share_is_deterministic(make):
    frame = make_mixed_frame(n_rows=96)
    first, second = (make(missing_share=0.2).fit(frame).transform(frame) for _ in range(2))
    np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------- variance / covariance term


def test_variance_covariance_of_collapsed_and_of_spread_tokens():
    context = _shuffled_context(1, 64, 6, 3, seed=0)
    collapsed = torch.ones(64, 4, 8)
    variance, covariance = variance_covariance_loss(collapsed, context, 6)
    assert variance == pytest.approx(0.99, abs=1e-3) and covariance == pytest.approx(0.0, abs=1e-8)
    spread = 3 * torch.randn(64, 4, 8, generator=torch.Generator().manual_seed(0))
    variance, covariance = variance_covariance_loss(spread, context, 6)
    assert variance == 0.0 and covariance > 0.0


def test_variance_covariance_ignores_the_order_of_the_context():
    context = _shuffled_context(2, 16, 6, 3, seed=1)
    encoded = torch.randn(32, 4, 8, generator=torch.Generator().manual_seed(1))
    permutation = torch.tensor([2, 0, 1])
    permuted = torch.cat([encoded[:, :1], encoded[:, 1:][:, permutation]], dim=1)
    expected = variance_covariance_loss(encoded, context, 6)
    got = variance_covariance_loss(permuted, context[:, :, permutation], 6)
    torch.testing.assert_close(got, expected)


# ---------------------------------------------------------------- the estimator with the optional terms


@pytest.mark.parametrize("numerical_embedding", ["linear", "piecewise_linear"])
def test_fit_with_the_variance_covariance_terms(make, numerical_embedding):
    frame = make_mixed_frame(n_rows=96)
    est = make(numerical_embedding=numerical_embedding, variance_weight=1.0, covariance_weight=0.04).fit(frame)
    assert all(np.isfinite(record["loss"]) for record in est.history_)
    assert est.transform(frame).shape == (96, (1 + 6) * 8)
    plain = make(numerical_embedding=numerical_embedding).fit(frame)
    assert est.history_[0]["loss"] != plain.history_[0]["loss"]


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(missing_share=1.0), ValueError, "missing_share"),
        (dict(missing_share=-0.1), ValueError, "missing_share"),
        (dict(variance_weight=-1.0), ValueError, "variance_weight"),
        (dict(covariance_weight=float("nan")), ValueError, "covariance_weight"),
        (dict(variance_weight="1"), TypeError, "variance_weight"),
    ],
)
def test_invalid_objective_parameters(make, params, error, match):
    with pytest.raises(error, match=match):
        make(**params).fit(make_mixed_frame(n_rows=32))


# ---------------------------------------------------------------- targets


def test_targets_computed_in_eval_mode_without_grad(make, X_numeric, monkeypatch):
    calls = []
    original = objective.target_tokens

    def spy(target_encoder, *args, **kwargs):
        out = original(target_encoder, *args, **kwargs)
        calls.append((target_encoder.training, any(m.training for m in target_encoder.modules()), out.requires_grad))
        return out

    monkeypatch.setattr(objective, "target_tokens", spy)
    make(dropout=0.5).fit(X_numeric)
    assert calls and set(calls) == {(False, False, False)}
