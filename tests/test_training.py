"""Tests for sklearn_tjepa.training: schedules, optimiser groups, the loop (batches, shuffling,
schedules applied before the first step), checkpoints and resuming, early stopping, callbacks,
monitoring and inference."""

import copy
import dataclasses
import math
import os

import numpy as np
import pytest
import torch

from conftest import row_indices, tiny_spec
from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.callbacks import Callback, LinearProbe
from sklearn_tjepa.inference import pool_tokens
from sklearn_tjepa.model import ModelSpec, build_student
from sklearn_tjepa.training import checkpoints, loop
from sklearn_tjepa.training.checkpoints import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from sklearn_tjepa.training.config import RESUMABLE, RunOptions, TrainConfig, from_params
from sklearn_tjepa.training.loop import iterations_per_epoch
from sklearn_tjepa.training.monitoring import collapse_statistics
from sklearn_tjepa.training.optim import make_optimizer
from sklearn_tjepa.training.schedules import Cosine, Linear, WarmupCosine

# ---------------------------------------------------------------- settings

#: Fields that fit derives from the data or random_state rather than from a parameter.
DERIVED = {"seed", "numerical_positions", "categorical_positions", "cardinalities", "numerical_bin_edges"}
#: Parameters that fit, partial_fit or transform use themselves (preprocessing, device, launch, split,
#: callbacks, seed, output dtype, the horizon of partial_fit, Parquet sampling and shuffling).
USED_BY_FIT = {
    "categorical_features", "numerical_scaling", "numerical_bins", "device", "backend", "n_procs", "n_nodes",
    "rdzv_endpoint", "early_stopping", "validation_fraction", "callbacks", "random_state", "output_dtype",
    "partial_fit_rows", "preprocessing_sample_rows", "shuffle_buffer_rows",
}


def test_each_parameter_has_one_place():
    """Every parameter is a field of exactly one of ModelSpec, TrainConfig and RunOptions (filled
    by name), or used by fit itself; every field is a parameter or derived in fit."""
    params = set(TJEPATransformer().get_params())
    fields = [{f.name for f in dataclasses.fields(cls)} - DERIVED for cls in (ModelSpec, TrainConfig, RunOptions)]
    assert all(names <= params for names in fields)
    assert sum(len(names) for names in fields) == len(set().union(*fields))
    assert set().union(*fields) | USED_BY_FIT == params and not set().union(*fields) & USED_BY_FIT


def test_only_stopping_rules_may_change_on_resume():
    resumable = {f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get(RESUMABLE)}
    assert resumable == {"max_epochs", "patience"}


def test_from_params_needs_every_field():
    params = TJEPATransformer().get_params()
    assert from_params(RunOptions, params).output == "flatten"
    with pytest.raises(TypeError, match="seed"):
        from_params(TrainConfig, params, patience=None)


# ---------------------------------------------------------------- schedules


def test_warmup_cosine():
    schedule = WarmupCosine(start=0.1, peak=1.0, final=0.01, warmup_steps=10, total_steps=110)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(5) == pytest.approx(0.55)
    assert schedule(10) == pytest.approx(1.0)
    assert schedule(60) == pytest.approx(0.01 + 0.99 * 0.5)
    assert schedule(110) == pytest.approx(0.01)
    assert schedule(500) == pytest.approx(0.01)  # held after the end
    values = [schedule(step) for step in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    warmup = [schedule(step) for step in range(11)]
    assert all(a < b for a, b in zip(warmup, warmup[1:]))


def test_warmup_cosine_without_warmup_starts_at_peak():
    schedule = WarmupCosine(start=0.0, peak=1.0, final=0.0, warmup_steps=0, total_steps=4)
    assert schedule(0) == pytest.approx(1.0)
    assert schedule(2) == pytest.approx(0.5)
    assert schedule(4) == pytest.approx(0.0)


def test_weight_decay_cosine():
    schedule = Cosine(start=0.04, final=0.4, total_steps=100)
    assert schedule(0) == pytest.approx(0.04)
    assert schedule(50) == pytest.approx(0.22)
    assert schedule(100) == pytest.approx(0.4)
    assert schedule(200) == pytest.approx(0.4)
    values = [schedule(step) for step in range(101)]
    assert all(a <= b for a, b in zip(values, values[1:]))


def test_momentum_linear_over_ema_horizon_scale_times_total():
    total, ema_horizon_scale = 40, 1.25
    schedule = Linear(0.996, 1.0, round(ema_horizon_scale * total))
    assert schedule(0) == pytest.approx(0.996)
    assert schedule(25) == pytest.approx(0.998)
    # at the end of training the momentum has covered 1 / ema_horizon_scale of its range
    assert schedule(total) == pytest.approx(0.996 + 0.004 / ema_horizon_scale)
    assert schedule(50) == pytest.approx(1.0) and schedule(80) == pytest.approx(1.0)


# ---------------------------------------------------------------- optimiser groups


@pytest.mark.parametrize("predictor", ["transformer", "mlp"])
def test_parameter_groups(predictor):
    student = build_student(tiny_spec(numerical=(0, 2), categorical=(1,), cardinalities=(4,), predictor=predictor))
    optimizer = make_optimizer(student)
    names = {id(p): name for name, p in student.named_parameters()}
    decayed = {names[id(p)] for g in optimizer.param_groups if g["decay"] for p in g["params"]}
    undecayed = {names[id(p)] for g in optimizer.param_groups if not g["decay"] for p in g["params"]}
    assert decayed | undecayed == set(names.values()) and not decayed & undecayed
    for name, parameter in student.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if parameter.ndim < 2 or "bias" in leaf:
            assert name in undecayed, f"{name} (biases and 1-D parameters) must not be decayed"
    for token in ("cls", "mask_token", "numerical_missing", "index_embedding", "type_embedding"):
        assert not any(name.endswith(token) for name in decayed)
    assert "encoder.transformer.blocks.0.qkv.weight" in decayed
    assert "encoder.tokenizer.categorical.embeddings.0.weight" in decayed
    assert {g["name"] for g in optimizer.param_groups} >= {"encoder-decay", "encoder-no-decay", "predictor-decay"}


# ---------------------------------------------------------------- the loop


@pytest.fixture
def recorded_steps(monkeypatch):
    """Record, at every optimiser step, each group's lr and weight decay (what the step uses)."""
    steps = []
    original = loop.make_optimizer

    def make_recording_optimizer(student):
        optimizer = original(student)
        step = optimizer.step

        def recording_step(*args, **kwargs):
            steps.append([(g["lr"], g["weight_decay"], g["decay"]) for g in optimizer.param_groups])
            return step(*args, **kwargs)

        optimizer.step = recording_step
        return optimizer

    monkeypatch.setattr(loop, "make_optimizer", make_recording_optimizer)
    return steps


def test_first_step_uses_scheduled_values(recorded_steps, X_numeric, make):
    """The schedules are applied before every step, the first included: its lr is start_lr,
    not AdamW's default 1e-3, and its weight decay is weight_decay (decayed groups only)."""
    X = X_numeric[:96]
    params = dict(start_lr=2e-4, lr=1e-2, final_lr=1e-5, warmup_epochs=1.0, weight_decay=0.05,
                  final_weight_decay=0.5, max_epochs=2, batch_size=32)
    est = make(**params).fit(X)
    ipe = iterations_per_epoch(96, 32)
    assert len(recorded_steps) == ipe * 2 == 6
    lr_at = WarmupCosine(2e-4, 1e-2, 1e-5, ipe, 2 * ipe)
    wd_at = Cosine(0.05, 0.5, 2 * ipe)
    for step, groups in enumerate(recorded_steps):
        for lr, wd, decay in groups:
            assert lr == pytest.approx(lr_at(step))
            assert wd == pytest.approx(wd_at(step) if decay else 0.0)
    assert recorded_steps[0][0][0] == pytest.approx(2e-4)
    # history holds the values of each epoch's last step
    assert est.history_[-1]["lr"] == pytest.approx(lr_at(2 * ipe - 1))
    assert est.history_[-1]["weight_decay"] == pytest.approx(wd_at(2 * ipe - 1))


def test_history_momentum_follows_schedule(X_numeric, make):
    est = make(max_epochs=2, batch_size=32, ema_start=0.9, ema_end=1.0, ema_horizon_scale=1.5).fit(X_numeric[:96])
    ipe = 3
    momentum_at = Linear(0.9, 1.0, round(1.5 * 2 * ipe))
    assert [h["momentum"] for h in est.history_] == pytest.approx([momentum_at(ipe - 1), momentum_at(2 * ipe - 1)])


@pytest.mark.parametrize(
    "n_rows,batch_size,expected",
    [(64, 32, 2), (65, 32, 2), (66, 32, 3), (1, 32, 0), (2, 32, 1), (33, 2, 16)],
)
def test_iterations_per_epoch(n_rows, batch_size, expected):
    assert iterations_per_epoch(n_rows, batch_size) == expected


def test_last_batch_of_one_row_is_dropped(recorded_batches, recorded_steps, X_numeric, make):
    make(batch_size=32, max_epochs=2).fit(X_numeric[:65])
    assert [len(batch) for batch in recorded_batches["train"]] == [32, 32, 32, 32]
    assert len(recorded_steps) == 4


def test_last_batch_of_two_rows_is_kept(recorded_batches, X_numeric, make):
    make(batch_size=32, max_epochs=1).fit(X_numeric[:66])
    assert [len(batch) for batch in recorded_batches["train"]] == [32, 32, 2]


def test_loss_decreases_on_structured_data(make):
    """A sanity check of the whole step: on rows with strongly related columns, the JEPA loss
    goes down over a few epochs."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(256, 1))
    X = np.hstack([z, 2 * z, -z, z + 0.01 * rng.normal(size=(256, 1)), z**2])
    est = make(max_epochs=6, lr=5e-3, warmup_epochs=0.5).fit(X)
    losses = [h["loss"] for h in est.history_]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]


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


def test_rows_shuffled_each_epoch(make, X_numeric, recorded_batches):
    X = X_numeric[:100]
    est = make(max_epochs=3, batch_size=50).fit(X)
    rows = row_indices(est, X, recorded_batches["train"])
    orders = [rows[0] + rows[1], rows[2] + rows[3], rows[4] + rows[5]]
    for order in orders:
        assert sorted(order) == list(range(100)) and order != list(range(100))
    assert orders[0] != orders[1] and orders[1] != orders[2]


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_written_and_loads_weights_only(tmp_path, X_numeric, make):
    est = make(checkpoint_dir=tmp_path, max_epochs=2).fit(X_numeric)
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT_NAME]  # no temporary file left behind
    state = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert {"student", "target", "optimizer", "fingerprint"} <= set(state)
    for name, tensor in est.encoder_.state_dict().items():
        assert torch.equal(state["target"][name], tensor)


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"epoch": 1, "weights": torch.ones(3)})

    def crashing_save(obj, stream, *args, **kwargs):
        stream.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", crashing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, {"epoch": 2, "weights": torch.zeros(3)})
    monkeypatch.undo()
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]
    state = load_checkpoint(tmp_path)
    assert state["epoch"] == 1 and torch.equal(state["weights"], torch.ones(3))
    assert load_checkpoint(tmp_path / "nothing-here") is None


class _Interrupt(Callback):
    """A callback that raises at the end of epoch ``at``, like a crash or Ctrl-C mid-training."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, est, record):
        if record["epoch"] == self.at:
            raise KeyboardInterrupt(f"interrupted at epoch {self.at}")


class _StopAt(Callback):
    """Ask training to stop at the end of epoch ``at`` (as early stopping would)."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, est, record):
        return record["epoch"] == self.at


def test_resume_after_interruption_is_bit_identical(tmp_path, X_numeric, make):
    """The run crashes during epoch 2 (before its checkpoint), restarts from epoch 1's checkpoint
    and ends with exactly the uninterrupted run's encoder: weights, optimiser state, data-order
    and mask generators and the global RNG (dropout) are all restored."""
    params = dict(max_epochs=3, dropout=0.1, checkpoint_every=1)
    uninterrupted = make(**params).fit(X_numeric)
    with pytest.raises(KeyboardInterrupt):
        make(**params, checkpoint_dir=tmp_path, callbacks=[_Interrupt(2)]).fit(X_numeric)
    assert torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)["epoch"] == 1
    resumed = make(**params, checkpoint_dir=tmp_path, resume=True).fit(X_numeric)
    assert resumed.n_iter_ == 3
    np.testing.assert_array_equal(resumed.transform(X_numeric), uninterrupted.transform(X_numeric))
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in uninterrupted.history_]


def test_checkpoint_within_an_epoch_in_memory_resumes_bit_identically(tmp_path, X_numeric, make):
    """Rows in memory are one window per epoch: with checkpoint_every_rows the checkpoint taken
    after it (before the epoch's record) resumes to the uninterrupted result, training nothing twice."""
    params = dict(max_epochs=3, dropout=0.1)
    uninterrupted = make(**params).fit(X_numeric)
    params.update(checkpoint_every_rows=1)
    with pytest.raises(KeyboardInterrupt):
        make(**params, checkpoint_dir=tmp_path, callbacks=[_Interrupt(2)]).fit(X_numeric)
    state = load_checkpoint(tmp_path)
    assert (state["epoch"], state["position"], state["partial"]["rows"]) == (1, 1, 120)
    resumed = make(**params, checkpoint_dir=tmp_path, resume=True).fit(X_numeric)
    np.testing.assert_array_equal(resumed.transform(X_numeric), uninterrupted.transform(X_numeric))
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in uninterrupted.history_]


def test_resume_of_finished_run_does_not_train(tmp_path, recorded_steps, X_numeric, make):
    first = make(checkpoint_dir=tmp_path).fit(X_numeric)
    n_steps = len(recorded_steps)
    again = make(checkpoint_dir=tmp_path, resume=True).fit(X_numeric)
    assert len(recorded_steps) == n_steps
    np.testing.assert_array_equal(again.transform(X_numeric), first.transform(X_numeric))


def test_resume_with_other_settings_raises_naming_them(tmp_path, X_numeric, make):
    make(checkpoint_dir=tmp_path, max_epochs=1).fit(X_numeric)
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*lr: 0\.001 -> 0\.005"):
        make(checkpoint_dir=tmp_path, max_epochs=2, resume=True, lr=5e-3).fit(X_numeric)
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*data_shapes \(the shape of the encoded training data"):
        make(checkpoint_dir=tmp_path, max_epochs=2, resume=True).fit(X_numeric[:, :4])


def test_resume_ignores_settings_that_do_not_change_the_weights(tmp_path, X_numeric, make):
    """output, transform_batch_size, verbose and data_on_device do not change what is learned:
    a checkpoint written under other values resumes (it was refused when output changed)."""
    first = make(checkpoint_dir=tmp_path, max_epochs=1, output="flatten").fit(X_numeric)
    resumed = make(
        checkpoint_dir=tmp_path, max_epochs=2, resume=True, output="cls", transform_batch_size=7, verbose=0,
        data_on_device="never",
    ).fit(X_numeric)
    assert resumed.n_iter_ == 2 and resumed.history_[0] == first.history_[0]


def test_resume_may_extend_max_epochs(tmp_path, X_numeric, make):
    make(checkpoint_dir=tmp_path, max_epochs=1).fit(X_numeric)
    resumed = make(checkpoint_dir=tmp_path, max_epochs=2, resume=True).fit(X_numeric)
    assert resumed.n_iter_ == 2 and resumed.history_[0]["epoch"] == 1


@pytest.fixture
def backward_count(monkeypatch):
    """How many training steps ran (backward passes), as a one-element list."""
    count = [0]
    original = torch.Tensor.backward

    def counting(self, *args, **kwargs):
        count[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "backward", counting)
    return count


@pytest.mark.reliability
def test_resume_with_random_state_none_reuses_the_checkpoint_seed(make, X_small, tmp_path):
    params = dict(random_state=None, max_epochs=3, checkpoint_dir=tmp_path, dropout=0.1)
    with pytest.raises(KeyboardInterrupt):
        make(**params, callbacks=[_Interrupt(2)]).fit(X_small)
    saved = load_checkpoint(tmp_path)
    assert saved["epoch"] == 1
    resumed = make(**params, resume=True).fit(X_small)
    assert resumed.n_iter_ == 3 and resumed.history_[0] == saved["history"][0]
    # the same run: resuming the finished run gives the same encoder again
    again = make(**params, resume=True).fit(X_small)
    np.testing.assert_array_equal(again.transform(X_small), resumed.transform(X_small))


@pytest.mark.reliability
def test_resume_with_another_int_random_state_names_random_state(make, X_small, tmp_path):
    make(random_state=1, max_epochs=1, checkpoint_dir=tmp_path).fit(X_small)
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*seed \(the seed drawn from random_state"):
        make(random_state=2, max_epochs=2, checkpoint_dir=tmp_path, resume=True).fit(X_small)


@pytest.mark.reliability
def test_resume_without_checkpoint_dir_is_refused(make, X_small):
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_dir"):
        make(resume=True).fit(X_small)


@pytest.mark.reliability
def test_early_stopped_run_resumes_as_finished(make, X_small, tmp_path, backward_count):
    first = make(max_epochs=4, checkpoint_dir=tmp_path, callbacks=[_StopAt(2)]).fit(X_small)
    assert first.n_iter_ == 2
    steps = backward_count[0]
    resumed = make(max_epochs=4, checkpoint_dir=tmp_path, resume=True).fit(X_small)
    assert backward_count[0] == steps  # no training step after the resume
    assert resumed.n_iter_ == 2 and resumed.history_ == first.history_
    np.testing.assert_array_equal(resumed.transform(X_small), first.transform(X_small))


# ---------------------------------------------------------------- early stopping and callbacks


def test_early_stopping_on_held_out_share(X_numeric, make):
    est = make(early_stopping=True, validation_fraction=0.2, max_epochs=3).fit(X_numeric)
    assert all("valid_loss" in record and np.isfinite(record["valid_loss"]) for record in est.history_)
    losses = [record["valid_loss"] for record in est.history_]
    assert est.best_epoch_ == 1 + int(np.argmin(losses))


def test_early_stopping_with_eval_set(X_numeric, tiny_params):
    est = TJEPATransformer(**tiny_params, random_state=0).fit(X_numeric[:90], eval_set=X_numeric[90:])
    assert [("valid_loss" in record) for record in est.history_] == [True, True]
    assert est.best_epoch_ in (1, 2)


def test_no_validation_without_early_stopping(X_numeric, make):
    est = make().fit(X_numeric)
    assert est.best_epoch_ is None
    assert not any("valid_loss" in record for record in est.history_)


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


def test_patience_stops_and_keeps_best_encoder(monkeypatch, X_numeric, make):
    """Validation losses 1, 2, 3, ... : with patience 2 training stops after epoch 3 and the
    returned encoder is the target encoder of epoch 1."""
    losses = iter([1.0, 2.0, 3.0, 4.0, 5.0])
    original = loop.jepa_loss

    def jepa_loss(student, *args, **kwargs):
        return original(student, *args, **kwargs) if student.training else torch.tensor(next(losses))

    monkeypatch.setattr(loop, "jepa_loss", jepa_loss)
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, est, record):
            snapshots[record["epoch"]] = copy.deepcopy(est.encoder_.state_dict())

    est = make(early_stopping=True, patience=2, max_epochs=5, batch_size=64, callbacks=[Snapshot()]).fit(X_numeric)
    assert est.n_iter_ == 3 and len(est.history_) == 3 and est.best_epoch_ == 1
    assert [record["valid_loss"] for record in est.history_] == [1.0, 2.0, 3.0]
    for name, tensor in est.encoder_.state_dict().items():
        assert torch.equal(tensor, snapshots[1][name])
    assert any(not torch.equal(snapshots[3][k], v) for k, v in snapshots[1].items())


def test_eval_set_without_early_stopping_never_stops(monkeypatch, X_numeric, make):
    """Without early_stopping an eval_set picks the best epoch but nothing stops training."""
    losses = iter([1.0, 2.0, 3.0, 4.0])
    original = loop.jepa_loss

    def jepa_loss(student, *args, **kwargs):
        return original(student, *args, **kwargs) if student.training else torch.tensor(next(losses))

    monkeypatch.setattr(loop, "jepa_loss", jepa_loss)
    est = make(patience=1, max_epochs=4, batch_size=64).fit(X_numeric[:100], eval_set=X_numeric[100:])
    assert est.n_iter_ == 4 and est.best_epoch_ == 1


def test_callback_returning_true_stops_training(X_numeric, make):
    class StopAfterOne(Callback):
        def on_epoch_end(self, est, record):
            return True

    est = make(max_epochs=3, callbacks=[StopAfterOne()]).fit(X_numeric)
    assert est.n_iter_ == 1 and len(est.history_) == 1


def test_callbacks_see_the_estimator_with_the_current_target_encoder(X_numeric, make):
    """Every hook gets the estimator; during training ``encoder_`` is the target encoder being
    trained (eval mode, frozen) and ``transform`` embeds with it."""
    seen = []

    class Spy(Callback):
        def on_train_begin(self, est):
            seen.append(("begin", hasattr(est, "encoder_"), hasattr(est, "preprocessor_")))

        def on_epoch_end(self, est, record):
            encoder = est.encoder_
            seen.append((record["epoch"], encoder.training, any(p.requires_grad for p in encoder.parameters())))
            self.embedding = est.transform(X_numeric[:4])

        def on_train_end(self, est):
            seen.append(("end", est.n_iter_))

    spy = Spy()
    est = make(callbacks=[spy]).fit(X_numeric)
    assert seen == [("begin", False, True), (1, False, False), (2, False, False), ("end", 2)]
    np.testing.assert_array_equal(spy.embedding, est.transform(X_numeric[:4]))


def test_failed_fit_leaves_no_half_trained_encoder(X_numeric, make):
    """A callback saw the half-trained encoder as ``encoder_``; a fit that fails removes it."""
    est = make(callbacks=[_Interrupt(1)])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X_numeric)
    assert not hasattr(est, "encoder_")


def _fitted_state(est) -> dict:
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


@pytest.mark.reliability
@pytest.mark.parametrize(
    "failure",
    ["infinity in the new table", "a crash mid-training", "a refused checkpoint"],
)
def test_failed_refit_leaves_the_previous_fit_intact(make, X_small, tmp_path, failure):
    est = make(max_epochs=1).fit(X_small)
    state = _fitted_state(est)
    expected = est.transform(X_small)
    other = np.random.default_rng(1).normal(size=(32, 6))
    if failure == "infinity in the new table":
        other[3, 2] = np.inf
        error, call = ValueError, lambda: est.fit(other)
    elif failure == "a crash mid-training":
        error, call = KeyboardInterrupt, lambda: est.set_params(callbacks=[_Interrupt(1)]).fit(other)
    else:
        (tmp_path / CHECKPOINT_NAME).write_bytes(b"garbage")
        error, call = ValueError, lambda: est.set_params(checkpoint_dir=tmp_path, resume=True).fit(other)
    with pytest.raises(error):
        call()
    after = _fitted_state(est)
    assert after.keys() == state.keys() and all(after[k] is state[k] for k in state)
    est.set_params(callbacks=None, checkpoint_dir=None, resume=False)
    np.testing.assert_array_equal(est.transform(X_small), expected)


@pytest.mark.reliability
def test_failed_first_fit_leaves_no_fitted_state(make, X_small):
    est = make(callbacks=[_Interrupt(1)])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X_small)
    assert _fitted_state(est) == {}


def test_linear_probe_adds_probe_score(binary_problem, tiny_params):
    X, y = binary_problem
    probe = LinearProbe(X[:80], y[:80], X[80:120], y[80:120], every=1)
    est = TJEPATransformer(**tiny_params, random_state=0, callbacks=[probe]).fit(X)
    scores = [record["probe_score"] for record in est.history_]
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores) > 0.6  # the label is linear in the inputs


def test_linear_probe_every_and_regression(binary_problem, tiny_params):
    X, y = binary_problem
    probe = LinearProbe(X[:80], X[:80, 0], X[80:], X[80:, 0], every=2, regression=True)
    est = TJEPATransformer(**tiny_params, random_state=0, callbacks=[probe]).fit(X)
    assert "probe_score" not in est.history_[0]
    assert np.isfinite(est.history_[1]["probe_score"])
    with pytest.raises(ValueError, match="every must be a positive int, got every=0"):
        TJEPATransformer(**tiny_params, callbacks=[LinearProbe(X, y, X, y, every=0)]).fit(X)


@pytest.mark.reliability
def test_linear_probe_keeps_no_fitted_state_on_itself(make, X_small):
    y = (X_small[:, 0] > 0).astype(int)
    probe = LinearProbe(X_small[:32], y[:32], X_small[32:], y[32:])
    before = dict(vars(probe))
    est = make(callbacks=[probe]).fit(X_small)
    assert vars(probe).keys() == before.keys() and all(vars(probe)[k] is before[k] for k in before)
    assert "probe_score" in est.history_[0]


def test_callback_that_is_not_a_callback_is_rejected(X_numeric, make):
    class OldStyle:
        def on_epoch_end(self, record, encoder):
            return None

    with pytest.raises(TypeError, match="callbacks must be instances of sklearn_tjepa.callbacks.Callback"):
        make(callbacks=[OldStyle()]).fit(X_numeric)


@pytest.mark.reliability
def test_callbacks_with_torchrun_are_refused_not_dropped(make, X_small):
    with pytest.raises(ValueError, match="callbacks.*backend='local'.*backend='torchrun'"):
        make(backend="torchrun", n_procs=2, callbacks=[_StopAt(1)]).fit(X_small)


# ---------------------------------------------------------------- monitoring and inference


def test_collapse_statistics():
    rng = np.random.default_rng(0)
    spread = collapse_statistics(torch.from_numpy(rng.normal(size=(200, 8))))
    assert spread["effective_rank"] > 7.0 and spread["embedding_std"] == pytest.approx(1.0, abs=0.15)
    line = torch.from_numpy(rng.normal(size=(200, 1)) * np.ones((1, 8)))
    assert collapse_statistics(line)["effective_rank"] == pytest.approx(1.0, abs=1e-6)
    constant = collapse_statistics(torch.ones(10, 4))
    assert constant["embedding_std"] == 0.0 and math.isfinite(constant["effective_rank"])


def test_pool_tokens():
    tokens = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    assert pool_tokens(tokens, "flatten", 1).shape == (2, 12)
    torch.testing.assert_close(pool_tokens(tokens, "cls", 1), tokens[:, 0])
    torch.testing.assert_close(pool_tokens(tokens, "mean", 2), tokens[:, 2:].mean(1))
