"""One test per known defect of the T-JEPA reference implementation, so that none of them comes
back here."""

import numpy as np
import pytest
import torch

from conftest import row_indices
from sklearn_tjepa.model import MaskSampler, objective
from sklearn_tjepa.training import loop


# 1. CLS token drawn into masks while the last feature is never used


@pytest.mark.parametrize("n_context_sets", [1, 2])
def test_masks_use_every_feature_and_never_cls(n_context_sets):
    """Indices address feature tokens 0..D-1 (the encoder adds the CLS offset): over many rows
    every feature, the last one included, is drawn as context and as target, and no index
    reaches D (which would be out of range, or the CLS token under an off-by-one)."""
    D = 7
    sampler = MaskSampler(
        n_features=D, mask_min_context_share=0.15, mask_max_context_share=0.3, mask_min_target_share=0.15, mask_max_target_share=0.3,
        n_target_sets=2, n_context_sets=n_context_sets,
    )
    size_gen, index_gen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    context_seen, target_seen = set(), set()
    for _ in range(20):
        context, targets = sampler.sample(64, size_generator=size_gen, index_generator=index_gen)
        context_seen |= set(context.unique().tolist())
        target_seen |= set(targets.unique().tolist())
    assert context_seen == target_seen == set(range(D))


def test_context_encoder_always_sees_cls(make, X_numeric, monkeypatch):
    """Every context view given to the predictor starts with the CLS token(s), and the masks fed
    to the student during training only hold feature indices."""
    seen = []
    original = loop.jepa_loss

    def spy(student, target_encoder, x_num, x_cat, context, targets, **kwargs):
        encoded = student.encoder(x_num, x_cat, context)
        seen.append((encoded.shape[1], context.shape[2], int(context.max()), int(targets.max())))
        return original(student, target_encoder, x_num, x_cat, context, targets, **kwargs)

    monkeypatch.setattr(loop, "jepa_loss", spy)
    make(n_cls_tokens=2, max_epochs=1).fit(X_numeric)
    assert seen
    for length, n_ctx, max_context, max_target in seen:
        assert length == 2 + n_ctx
        assert max_context < 5 and max_target < 5


# 2. Dropout active while computing targets and embeddings


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


def test_embeddings_without_dropout(make, X_numeric):
    est = make(dropout=0.5).fit(X_numeric)
    first = est.transform(X_numeric)
    np.testing.assert_array_equal(est.transform(X_numeric), first)
    # row independence: a row's embedding does not depend on its batch
    np.testing.assert_array_equal(est.set_params(transform_batch_size=1).transform(X_numeric[:5]), first[:5])


# 3. First step taken with optimiser defaults before the schedules apply


def test_first_step_uses_schedules(make, X_numeric, monkeypatch):
    first_step = {}
    momenta = []
    original_make, original_ema = loop.make_optimizer, loop.ema_update

    def make_optimizer(student):
        optimizer = original_make(student)
        step = optimizer.step

        def recording_step(*args, **kwargs):
            first_step.setdefault("groups", [(g["lr"], g["weight_decay"], g["decay"]) for g in optimizer.param_groups])
            return step(*args, **kwargs)

        optimizer.step = recording_step
        return optimizer

    def ema_update(target, source, momentum):
        momenta.append(momentum)
        return original_ema(target, source, momentum)

    monkeypatch.setattr(loop, "make_optimizer", make_optimizer)
    monkeypatch.setattr(loop, "ema_update", ema_update)
    make(start_lr=3e-5, lr=1e-2, weight_decay=0.07, final_weight_decay=0.3, ema_start=0.95).fit(X_numeric)
    for lr, wd, decay in first_step["groups"]:
        assert lr == pytest.approx(3e-5)  # not AdamW's default 1e-3
        assert wd == pytest.approx(0.07 if decay else 0.0)  # not AdamW's default 1e-2
    assert momenta[0] == pytest.approx(0.95)
    assert all(a <= b for a, b in zip(momenta, momenta[1:]))


# 4. n_context_sets > 1 and the MLP predictor crash


@pytest.mark.parametrize("predictor", ["transformer", "mlp"])
@pytest.mark.parametrize("n_context_sets", [1, 2])
def test_multiple_context_views_and_mlp_predictor_train(make, X_numeric, predictor, n_context_sets):
    est = make(predictor=predictor, n_context_sets=n_context_sets, n_target_sets=3, mask_max_context_share=0.4).fit(X_numeric)
    assert all(np.isfinite(record["loss"]) for record in est.history_)
    out = est.transform(X_numeric)
    assert out.shape == (120, 48) and np.isfinite(out).all()


# 5. Scaler fitted on all rows including the test rows


def test_scaler_fitted_on_fit_rows_only(make, X_numeric):
    train, test = X_numeric[:80], X_numeric[80:] * 50
    est = make(numerical_scaling="minmax").fit(train)
    scaler = est.preprocessor_.scaler_
    np.testing.assert_allclose(scaler.data_min_, train.min(axis=0))
    np.testing.assert_allclose(scaler.data_max_, train.max(axis=0))
    embeddings = est.transform(train)
    est.transform(test)
    np.testing.assert_allclose(scaler.data_max_, train.max(axis=0))
    # the test rows change nothing for the training rows
    np.testing.assert_array_equal(est.transform(train), embeddings)
    # scaled test values are outside [0, 1]: they were scaled with the training range only
    scaled = est.preprocessor_.transform(test).x_num
    assert scaled.max() > 1.0 or scaled.min() < 0.0


# 6. No missing-value handling: one NaN turns the row's output into NaN


def test_nan_gives_finite_embeddings(make, X_numeric):
    X = X_numeric.copy()
    X[0, 4] = np.nan
    X[1, :] = np.nan
    est = make().fit(X)
    out = est.transform(X)
    assert np.isfinite(out).all()
    history_values = [record["loss"] for record in est.history_]
    assert np.isfinite(history_values).all()
    # the NaN does not leak into other rows
    np.testing.assert_array_equal(est.transform(X[2:]), out[2:])


# 7. No shuffling


def test_rows_shuffled_each_epoch(make, X_numeric, recorded_batches):
    X = X_numeric[:100]
    est = make(max_epochs=3, batch_size=50).fit(X)
    rows = row_indices(est, X, recorded_batches["train"])
    orders = [rows[0] + rows[1], rows[2] + rows[3], rows[4] + rows[5]]
    for order in orders:
        assert sorted(order) == list(range(100)) and order != list(range(100))
    assert orders[0] != orders[1] and orders[1] != orders[2]


# 8. Downstream early stopping on the test set


def _row_set(array):
    return {row.tobytes() for row in np.ascontiguousarray(array)}


def _seen(recorded_batches, kind):
    """The distinct rows the loop computed the objective on, training or validation."""
    batches = recorded_batches[kind]
    return np.unique(torch.cat(batches).numpy(), axis=0) if batches else None


def test_early_stopping_validates_on_held_out_fit_rows(make, X_numeric, recorded_batches):
    """Validation rows are a share of fit's X, disjoint from the training rows; nothing else
    (in particular no test data) is ever seen."""
    est = make(early_stopping=True, validation_fraction=0.25).fit(X_numeric)
    encoded = _row_set(est.preprocessor_.transform(X_numeric).x_num)
    train, valid = _seen(recorded_batches, "train"), _seen(recorded_batches, "valid")
    assert len(valid) == 30 and len(train) == 90
    assert _row_set(valid) <= encoded and _row_set(train) <= encoded
    assert not _row_set(valid) & _row_set(train)
    assert _row_set(valid) | _row_set(train) == encoded
    assert est.best_epoch_ is not None


def test_early_stopping_with_eval_set_uses_exactly_eval_set(make, X_numeric, recorded_batches):
    X_fit, X_eval = X_numeric[:90], X_numeric[90:]
    est = make().fit(X_fit, eval_set=X_eval)
    assert _row_set(_seen(recorded_batches, "valid")) == _row_set(est.preprocessor_.transform(X_eval).x_num)
    # all of fit's rows are trained on; the preprocessing saw fit's rows only
    assert _row_set(_seen(recorded_batches, "train")) == _row_set(est.preprocessor_.transform(X_fit).x_num)
    assert est.preprocessor_.scaler_.n_quantiles_ <= 90


def test_no_validation_data_without_early_stopping(make, X_numeric, recorded_batches):
    make().fit(X_numeric)
    assert recorded_batches["valid"] == []
    assert len(_seen(recorded_batches, "train")) == 120
