"""Tests for TJEPATransformer.partial_fit and fit_preprocessing, and the incremental training
they run (sklearn_tjepa.training.incremental): equivalence with fit, pausing through joblib,
schedules over the horizon, progress counters, preprocessing from a sample, and errors."""

import pickle

import joblib
import numpy as np
import pytest
from conftest import make_mixed_frame

from sklearn_tjepa import precision
from sklearn_tjepa.model import encoder as encoder_module
from sklearn_tjepa.training import memory
from sklearn_tjepa.training.config import TrainConfig, from_params
from sklearn_tjepa.training.loop import iterations_per_epoch
from sklearn_tjepa.training.schedules import RunSchedules


@pytest.fixture
def chunks(X_numeric):
    """Four chunks of 30 rows of the 120-row table."""
    return np.array_split(X_numeric, 4)


def test_max_epochs_calls_on_the_same_rows_train_exactly_as_fit(make, X_numeric):
    params = dict(max_epochs=3, dropout=0.1, weight_decay=0.01, warmup_epochs=0.5)
    fitted = make(**params).fit(X_numeric)
    incremental = make(**params)
    for _ in range(3):
        incremental.partial_fit(X_numeric)
    np.testing.assert_array_equal(incremental.transform(X_numeric), fitted.transform(X_numeric))
    assert [h["loss"] for h in incremental.history_] == [h["loss"] for h in fitted.history_]
    assert [h["lr"] for h in incremental.history_] == [h["lr"] for h in fitted.history_]
    assert incremental.n_iter_ == 3 and incremental.n_rows_seen_ == 360
    assert incremental.n_steps_ == 3 * iterations_per_epoch(120, 32)
    assert [h.keys() for h in incremental.history_] == [h.keys() for h in fitted.history_]  # memory, precision...


@pytest.mark.parametrize("native", [True, False])
def test_precision_and_recompute_are_resolved_and_used_as_in_fit(monkeypatch, make, X_numeric, native):
    monkeypatch.setattr(precision, "native_bf16", lambda device: native)
    monkeypatch.setattr(memory, "RECOMPUTE_BUDGET_BYTES", 0)  # every model exceeds it: "auto" recomputes
    recomputed = []
    real = encoder_module.checkpoint

    def counting(*args, **kwargs):
        recomputed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(encoder_module, "checkpoint", counting)
    est = make(precision="auto", recompute="auto").partial_fit(X_numeric)
    expected = "bf16" if native else "32"
    assert (est.precision_, est.recompute_) == (expected, True) and recomputed
    assert est.history_[-1]["precision"] == expected


def test_eval_set_records_fits_validation_loss_and_changes_nothing(make, X_numeric, chunks):
    train, valid = X_numeric[:90], X_numeric[90:]
    fitted = make(max_epochs=1).fit(train, eval_set=valid)
    assert make(max_epochs=1).partial_fit(train, eval_set=valid).history_[0]["valid_loss"] == fitted.history_[0]["valid_loss"]
    with_valid, without = make(), make()
    for chunk in chunks[:3]:
        with_valid.partial_fit(chunk, eval_set=chunks[3])
        without.partial_fit(chunk)
    assert all(np.isfinite(record["valid_loss"]) for record in with_valid.history_)
    assert ["valid_loss" in record for record in without.history_] == [False] * 3
    assert [r["loss"] for r in with_valid.history_] == [r["loss"] for r in without.history_]
    np.testing.assert_array_equal(with_valid.transform(X_numeric), without.transform(X_numeric))
    with pytest.raises(ValueError, match="X has 4 features, but TJEPATransformer is expecting 5"):
        with_valid.partial_fit(chunks[0], eval_set=chunks[3][:, :4])
    assert with_valid.n_iter_ == 3


def test_progress_counters_and_transform_after_every_call(make, chunks, X_numeric):
    est = make()
    for number, chunk in enumerate(chunks, start=1):
        est.partial_fit(chunk)
        assert est.n_rows_seen_ == 30 * number and est.n_steps_ == number  # one batch of 30 rows per call
        assert est.n_iter_ == number == len(est.history_) and est.history_[-1]["epoch"] == number
        out = est.transform(X_numeric)
        assert out.shape == (120, 48) and np.isfinite(out).all()
    assert est.best_epoch_ is None


@pytest.mark.parametrize("pause_after", [1, 2])
def test_dump_and_load_between_calls_continues_as_without_pause(make, chunks, X_numeric, tmp_path, pause_after):
    params = dict(dropout=0.2, missing_share=0.1, partial_fit_rows=120)
    uninterrupted = make(**params)
    for chunk in chunks:
        uninterrupted.partial_fit(chunk)
    paused = make(**params)
    for chunk in chunks[:pause_after]:
        paused.partial_fit(chunk)
    joblib.dump(paused, tmp_path / "paused.joblib")
    del paused
    resumed = joblib.load(tmp_path / "paused.joblib")
    for chunk in chunks[pause_after:]:
        resumed = pickle.loads(pickle.dumps(resumed.partial_fit(chunk)))
    np.testing.assert_array_equal(resumed.transform(X_numeric), uninterrupted.transform(X_numeric))
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in uninterrupted.history_]
    assert (resumed.n_steps_, resumed.n_rows_seen_) == (uninterrupted.n_steps_, uninterrupted.n_rows_seen_)


def test_schedules_span_max_epochs_of_partial_fit_rows_and_hold_after(make, X_numeric):
    params = dict(max_epochs=2, partial_fit_rows=64, batch_size=16, lr=1e-2, final_lr=1e-4, ema_start=0.9)
    est = make(**params)
    config = from_params(TrainConfig, est.get_params(), seed=0, patience=None)
    schedules = RunSchedules.for_run(config, iterations_per_epoch(64, 16))  # 2 epochs of 4 steps
    est.partial_fit(X_numeric[:48])  # steps 0, 1, 2
    assert est.history_[-1]["lr"] == pytest.approx(schedules.lr(2))
    assert est.history_[-1]["momentum"] == pytest.approx(schedules.momentum(2))
    est.partial_fit(X_numeric[48:])  # steps 3 .. 7 ends past the 8-step horizon of the lr
    est.partial_fit(X_numeric)  # steps 8 .. 15: past the horizon, every schedule holds its end
    assert est.n_steps_ == 3 + 5 + 8
    assert est.history_[-1]["lr"] == pytest.approx(1e-4)
    assert est.history_[-1]["momentum"] == pytest.approx(1.0)


def test_first_call_fits_the_preprocessing_on_its_rows(make):
    frame = make_mixed_frame(n_rows=120)
    first, later = frame[frame["city"] != "oslo"], frame[frame["city"] == "oslo"]
    est = make().partial_fit(first)
    assert "oslo" not in est.preprocessor_.categories_[1]
    est.partial_fit(later)  # an unseen category is embedded as missing, as in transform
    unseen = later.iloc[[0]]
    missing = unseen.assign(city=None)
    np.testing.assert_array_equal(est.transform(unseen), est.transform(missing))


def test_fit_preprocessing_on_a_sample_fixes_scaling_and_categories(make):
    frame = make_mixed_frame(n_rows=120)
    first = frame[frame["city"] != "oslo"]
    est = make(numerical_scaling="minmax").fit_preprocessing(frame.sample(60, random_state=0))
    assert not hasattr(est, "encoder_")
    before = est.preprocessor_
    est.partial_fit(first)
    assert est.preprocessor_ is before and "oslo" in est.preprocessor_.categories_[1]
    # starts over: a new fit_preprocessing forgets the training so far
    est.fit_preprocessing(frame)
    assert not hasattr(est, "encoder_") and not hasattr(est, "n_steps_")
    assert est.partial_fit(first).n_steps_ == iterations_per_epoch(len(first), 32)


def test_fit_after_partial_fit_starts_over(make, chunks, X_numeric):
    est = make().partial_fit(chunks[0])
    est.fit(X_numeric)
    assert not hasattr(est, "n_steps_") and not hasattr(est, "_partial_fit_state_")
    np.testing.assert_array_equal(est.transform(X_numeric), make().fit(X_numeric).transform(X_numeric))


def test_partial_fit_after_fit_starts_from_the_fitted_encoder(make, X_numeric):
    est = make().fit(X_numeric)
    fitted = est.transform(X_numeric)
    # with a momentum of 1 the target encoder never moves: it stays the fitted encoder
    est.set_params(ema_start=1.0, ema_end=1.0).partial_fit(X_numeric)
    np.testing.assert_array_equal(est.transform(X_numeric), fitted)
    assert est.n_iter_ == 1 == len(est.history_) and est.n_steps_ == iterations_per_epoch(120, 32)
    cold = make(ema_start=1.0, ema_end=1.0).partial_fit(X_numeric)
    assert not np.allclose(cold.transform(X_numeric), fitted)


@pytest.mark.parametrize(
    "change,match",
    [
        (dict(lr=5e-3), r"lr: 0\.001 -> 0\.005"),
        (dict(d_model=16, n_heads=2), "d_model: 8 -> 16"),
        (dict(batch_size=16), "batch_size: 32 -> 16"),
    ],
)
def test_changed_settings_between_calls_are_named(make, chunks, change, match):
    est = make().partial_fit(chunks[0])
    steps = est.n_steps_
    with pytest.raises(ValueError, match=f"partial_fit cannot continue.*{match}"):
        est.set_params(**change).partial_fit(chunks[1])
    assert est.n_steps_ == steps


def test_schedule_length_may_change_between_calls(make, chunks):
    est = make().partial_fit(chunks[0])
    est.set_params(max_epochs=5, partial_fit_rows=1000).partial_fit(chunks[1])
    assert est.n_steps_ == 2


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(backend="torchrun"), "partial_fit trains in this process and needs backend='local'"),
        (dict(max_epochs=0), "partial_fit needs max_epochs >= 1"),
        (dict(partial_fit_rows=0), "partial_fit_rows must be None or a positive int, got partial_fit_rows=0"),
    ],
)
def test_bad_parameters(make, X_numeric, params, match):
    with pytest.raises(ValueError, match=match):
        make(**params).partial_fit(X_numeric)


def test_a_parameter_of_the_wrong_type_raises_type_error(make, X_numeric):
    with pytest.raises(TypeError, match=r"partial_fit_rows must be None or a positive int, got partial_fit_rows=100\.0"):
        make(partial_fit_rows=100.0).partial_fit(X_numeric)


def test_bad_chunks_leave_the_state_as_it_was(make, chunks, X_numeric):
    est = make().partial_fit(chunks[0])
    expected = est.transform(X_numeric)
    with pytest.raises(ValueError, match="X has 4 features, but TJEPATransformer is expecting 5"):
        est.partial_fit(chunks[1][:, :4])
    with pytest.raises(ValueError, match="at least 2 rows per call, got n_samples=1"):
        est.partial_fit(chunks[1][:1])
    bad = chunks[1].copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity in column 2"):
        est.partial_fit(bad)
    assert est.n_steps_ == 1 and est.n_rows_seen_ == 30
    np.testing.assert_array_equal(est.transform(X_numeric), expected)
    np.testing.assert_array_equal(
        est.partial_fit(chunks[1]).transform(X_numeric), make().partial_fit(chunks[0]).partial_fit(chunks[1]).transform(X_numeric)
    )


def test_first_chunk_of_one_row_leaves_nothing_fitted(make, X_numeric):
    est = make()
    with pytest.raises(ValueError, match="at least 2 rows"):
        est.partial_fit(X_numeric[:1])
    assert not [name for name in vars(est) if name.endswith("_")]


def test_history_is_a_copy_of_the_run_state(make, X_small):
    # editing history_ used to edit the state the next call continues from
    est = make(max_epochs=3, partial_fit_rows=len(X_small)).partial_fit(X_small)
    est.history_.clear()
    est.partial_fit(X_small)
    assert est.n_iter_ == 2 and [r["epoch"] for r in est.history_] == [1, 2]
