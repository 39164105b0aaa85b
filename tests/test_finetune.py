"""TJEPAClassifier and TJEPARegressor: pretraining on all rows, fine-tuning on the labelled ones."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_PARAMS, make_mixed_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.exceptions import DeviceWarning

from sklearn_tjepa import TJEPAClassifier, TJEPARegressor, TJEPATransformer
from sklearn_tjepa.finetune.estimators import TARGET_COLUMN
from sklearn_tjepa.finetune.module import READOUTS, build_finetune_network


def _tjepa(**overrides):
    return TJEPATransformer(**{**TINY_PARAMS, "max_epochs": 1, **overrides})


def _classifier(**overrides):
    params = dict(
        tjepa=_tjepa(), head_d_block=16, max_epochs=3, batch_size=32, lr=1e-2,
        validation_fraction=None, device="cpu", random_state=0,
    )
    return TJEPAClassifier(**{**params, **overrides})


def _regressor(**overrides):
    params = dict(
        tjepa=_tjepa(), head_d_block=16, max_epochs=3, batch_size=32, lr=1e-2,
        validation_fraction=None, device="cpu", random_state=0,
    )
    return TJEPARegressor(**{**params, **overrides})


def _state(module):
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}


def _same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


@pytest.fixture
def semi_supervised(binary_problem):
    """The binary problem with every other row unlabelled (-1): 160 rows, 80 labelled."""
    X, y = binary_problem
    y = y.copy()
    y[1::2] = -1
    return X, y


@pytest.fixture
def pretrain_calls(monkeypatch):
    """Record the number of rows of every TJEPATransformer.fit call."""
    calls = []
    original = TJEPATransformer.fit

    def recording_fit(self, X, y=None, **kwargs):
        calls.append(len(X))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(TJEPATransformer, "fit", recording_fit)
    return calls


@pytest.fixture
def pretrained_tables(monkeypatch):
    """Record a copy of the table of every TJEPATransformer.fit call."""
    tables = []
    original = TJEPATransformer.fit

    def recording_fit(self, X, y=None, **kwargs):
        tables.append(pd.DataFrame(X).copy())
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(TJEPATransformer, "fit", recording_fit)
    return tables


# --- unlabelled rows ------------------------------------------------------------------------


def test_classifier_pretrains_on_all_rows_and_fine_tunes_on_labelled(semi_supervised, pretrain_calls):
    X, y = semi_supervised
    clf = _classifier(max_epochs=1, batch_size=1000).fit(X, y)
    assert pretrain_calls == [len(X)]
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    first_epoch_batches = clf.net_.history[0]["batches"]
    assert sum(batch["train_batch_size"] for batch in first_epoch_batches) == (y != -1).sum()
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_regressor_treats_nan_as_unlabelled(pretrain_calls):
    frame = make_mixed_frame(n_rows=120, with_missing=True)
    y = np.random.default_rng(0).normal(size=len(frame))
    y[::3] = np.nan
    reg = _regressor(max_epochs=1, batch_size=1000).fit(frame, y)
    assert pretrain_calls == [len(frame)]
    labelled = ~np.isnan(y)
    batches = reg.net_.history[0]["batches"]
    assert sum(batch["train_batch_size"] for batch in batches) == labelled.sum()
    assert reg.y_mean_ == pytest.approx(y[labelled].mean())
    assert np.isfinite(reg.predict(frame)).all()


def test_object_labels_with_unlabelled_rows(semi_supervised):
    X, y = semi_supervised
    labels = np.array(["no", "yes"], dtype=object)[np.maximum(y, 0)]
    labels[y == -1] = -1
    clf = _classifier(max_epochs=1).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    assert set(clf.predict(X)) <= {"no", "yes"}


def test_string_labels_have_no_unlabelled_mark(binary_problem):
    X, y = binary_problem
    labels = np.array(["-1", "b"])[y]
    clf = _classifier(max_epochs=1).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["-1", "b"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=-1, max_value=3), min_size=2, max_size=40))
def test_classifier_labelled_rows_are_those_not_minus_one(labels):
    y = np.array(labels)
    kept = np.unique(y[y != -1])
    X = make_mixed_frame(n_rows=len(y))
    clf = TJEPAClassifier()
    if kept.size < 2:
        with pytest.raises(ValueError, match="labelled rows"):
            clf._labelled_target(X, y)
        return
    labelled, codes, n_classes = clf._labelled_target(X, y)
    np.testing.assert_array_equal(labelled, y != -1)
    np.testing.assert_array_equal(clf.classes_, kept)
    np.testing.assert_array_equal(clf.classes_[codes], y[y != -1])
    assert n_classes == kept.size


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.full(20, -1), "every row of y is -1"),
        (np.where(np.arange(20) % 2, 1, -1), "at least 2 classes"),
    ],
    ids=["all-unlabelled", "one-class"],
)
def test_classifier_rejects_targets_without_two_labelled_classes(y, match, pretrain_calls):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=match):
        _classifier().fit(X, y)
    assert pretrain_calls == []  # the target is checked before pretraining


def test_regressor_rejects_all_nan_and_infinite_targets():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="every row of y is NaN"):
        _regressor().fit(X, np.full(20, np.nan))
    y = np.zeros(20)
    y[3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        _regressor().fit(X, y)


# --- pretraining: clone, frozen transformer, from scratch -----------------------------------


def test_frozen_transformer_is_fine_tuned_without_pretraining_and_left_unchanged(
    semi_supervised, pretrain_calls
):
    X, y = semi_supervised
    tjepa = _tjepa(random_state=0).fit(X)
    before = _state(tjepa.encoder_)
    pretrain_calls.clear()
    clf = _classifier(tjepa=FrozenEstimator(tjepa), max_epochs=2).fit(X, y)
    assert pretrain_calls == []
    assert clf.tjepa_.estimator is tjepa
    assert _same_state(_state(tjepa.encoder_), before)
    # the copy was fine-tuned: its weights moved away from the pretrained ones
    assert not _same_state(_state(clf.net_.module_.encoder), before)


def test_unfitted_frozen_transformer_is_an_error(semi_supervised):
    X, y = semi_supervised
    with pytest.raises(NotFittedError):
        _classifier(tjepa=FrozenEstimator(_tjepa())).fit(X, y)


def test_frozen_transformer_must_have_the_same_columns(semi_supervised):
    X, y = semi_supervised
    tjepa = FrozenEstimator(_tjepa(random_state=0).fit(X[:, :3]))
    with pytest.raises(ValueError, match="tjepa was fitted on 3 features"):
        _classifier(tjepa=tjepa).fit(X, y)
    frame = make_mixed_frame(n_rows=60)
    renamed = frame.rename(columns={"age": "years"})
    tjepa = FrozenEstimator(_tjepa(random_state=0).fit(frame))
    with pytest.raises(ValueError, match="tjepa was fitted on columns"):
        _regressor(tjepa=tjepa).fit(renamed, np.arange(60.0))


def test_tjepa_seed_comes_from_random_state_unless_set(semi_supervised):
    X, y = semi_supervised
    clf = _classifier(max_epochs=1).fit(X, y)
    assert isinstance(clf.tjepa_.random_state, int)
    assert clf.tjepa.random_state is None  # the parameter is not modified
    clf = _classifier(tjepa=_tjepa(random_state=5), max_epochs=1).fit(X, y)
    assert clf.tjepa_.random_state == 5


def test_from_scratch_control_fine_tunes_the_untrained_encoder(semi_supervised):
    X, y = semi_supervised
    untrained = TJEPATransformer(**{**TINY_PARAMS, "max_epochs": 0, "random_state": 0}).fit(X)
    clf = _classifier(tjepa=_tjepa(max_epochs=0, random_state=0), freeze_epochs=1, max_epochs=1)
    clf.fit(X, y)
    assert clf.tjepa_.n_iter_ == 0
    # max_epochs=0 keeps the initialisation, which the fine-tuning starts from
    assert _same_state(_state(clf.net_.module_.encoder), _state(untrained.encoder_))


def test_deep_parameters_reach_the_transformer(semi_supervised):
    X, y = semi_supervised
    clf = _classifier()
    clf.set_params(tjepa__d_model=4, tjepa__n_heads=1)
    assert clf.get_params()["tjepa__d_model"] == 4
    search = GridSearchCV(clf, {"tjepa__max_epochs": [0, 1]}, cv=2, error_score="raise")
    search.fit(X, y)
    assert search.best_estimator_.tjepa_.d_model == 4
    assert search.best_params_["tjepa__max_epochs"] in (0, 1)


# --- target-aware pretraining -----------------------------------------------------------------


def _predictions_without_label(model, table):
    """What the fitted net predicts for ``table`` encoded by ``tjepa_`` (label column included)."""
    encoded = model.tjepa_.preprocessor_.transform(table)
    inputs = {"x_num": encoded.x_num, "x_cat": encoded.x_cat}
    method = "predict_proba" if hasattr(model, "classes_") else "predict"
    return getattr(model.net_, method)(inputs)


def test_target_aware_classifier_pretrains_on_the_labels_and_predicts_without(
    semi_supervised, pretrained_tables
):
    X, y = semi_supervised
    clf = _classifier(target_aware=True, max_epochs=2).fit(X, y)
    (table,) = pretrained_tables
    assert table.shape == (len(X), 5) and isinstance(table[4].dtype, pd.CategoricalDtype)
    labelled = y != -1
    np.testing.assert_array_equal(table[4][labelled].astype(int), y[labelled])
    assert table[4][~labelled].isna().all()
    assert clf.tjepa_.n_features_in_ == 5 and clf.tjepa_.preprocessor_.is_categorical_[-1]
    assert clf.n_features_in_ == 4
    # predictions read every row with the label column missing, whatever the row's label
    missing = pd.DataFrame(X)
    missing[4] = pd.Categorical([None] * len(X), categories=clf.classes_)
    np.testing.assert_allclose(clf.predict_proba(X), _predictions_without_label(clf, missing),
                               rtol=1e-6)


def test_target_aware_regressor_label_column_holds_the_target(pretrained_tables):
    frame = make_mixed_frame(n_rows=120, with_missing=True)
    y = np.random.default_rng(0).normal(size=len(frame))
    y[::3] = np.nan
    reg = _regressor(target_aware=True, max_epochs=2).fit(frame, y)
    (table,) = pretrained_tables
    assert table.columns.tolist() == [*frame.columns, TARGET_COLUMN]
    np.testing.assert_allclose(table[TARGET_COLUMN], y, rtol=1e-6)  # NaN where unlabelled
    assert reg.tjepa_.feature_names_in_.tolist() == [*frame.columns, TARGET_COLUMN]
    assert not reg.tjepa_.preprocessor_.is_categorical_[-1]
    np.testing.assert_array_equal(reg.feature_names_in_, frame.columns)
    expected = _predictions_without_label(reg, frame.assign(**{TARGET_COLUMN: np.nan}))
    np.testing.assert_allclose(reg.predict(frame), expected[:, 0] * reg.y_scale_ + reg.y_mean_,
                               rtol=1e-5, atol=1e-6)


def test_target_aware_hides_the_held_out_rows_labels_from_the_pretraining(
    semi_supervised, pretrained_tables
):
    X, y = semi_supervised
    clf = _classifier(target_aware=True, validation_fraction=0.25, max_epochs=2, batch_size=1000)
    clf.fit(X, y)
    (table,) = pretrained_tables
    labelled = y != -1
    shown = table[4].notna().to_numpy()
    assert not shown[~labelled].any()
    n_held_out = (labelled & ~shown).sum()
    assert n_held_out == round(0.25 * labelled.sum())
    # the rows whose labels the pretraining did not see are the early-stopping rows
    batches = clf.net_.history[0]["batches"]
    assert sum(b.get("valid_batch_size", 0) for b in batches) == n_held_out
    assert sum(b.get("train_batch_size", 0) for b in batches) == shown.sum()


def test_target_aware_with_a_validation_set_shows_every_training_label(
    semi_supervised, pretrained_tables
):
    X, y = semi_supervised
    X_val, y_val = X[:40], np.where(y[:40] == -1, 0, y[:40])
    _classifier(target_aware=True, validation_fraction=0.25, max_epochs=1).fit(X, y, X_val, y_val)
    (table,) = pretrained_tables
    assert len(table) == len(X)  # validation rows are never pretrained on
    np.testing.assert_array_equal(table[4].notna(), y != -1)


@pytest.mark.parametrize(
    ("categorical_features", "extended"),
    [(None, [4]), ([1], [1, 4]), ([False, True, False, False], [False, True, False, False, True])],
)
def test_target_aware_extends_categorical_features_to_the_label(
    semi_supervised, categorical_features, extended
):
    X, y = semi_supervised
    tjepa = _tjepa(categorical_features=categorical_features)
    clf = _classifier(tjepa=tjepa, target_aware=True, max_epochs=1).fit(X.round(), y)
    assert clf.tjepa_.categorical_features == extended
    assert clf.tjepa_.preprocessor_.is_categorical_[-1]
    assert tjepa.categorical_features is categorical_features  # the parameter is not modified


def test_target_aware_with_categorical_features_by_name(pretrained_tables):
    frame = make_mixed_frame(n_rows=80)
    y = np.where(frame["age"] > 40, 1, 0)
    y[::2] = -1
    tjepa = _tjepa(categorical_features=["colour", "city", "flag", "label"])
    clf = _classifier(tjepa=tjepa, target_aware=True, max_epochs=1).fit(frame, y)
    assert clf.tjepa_.categorical_features[-1] == TARGET_COLUMN
    assert clf.predict(frame).shape == (80,)


def test_target_aware_needs_a_transformer_to_pretrain(semi_supervised, pretrain_calls):
    X, y = semi_supervised
    frozen = FrozenEstimator(_tjepa(random_state=0).fit(X))
    pretrain_calls.clear()
    with pytest.raises(ValueError, match="tjepa is a FrozenEstimator, whose transformer was "
                                         "pretrained without the label"):
        _classifier(tjepa=frozen, target_aware=True).fit(X, y)
    assert pretrain_calls == []


def test_target_aware_refuses_a_column_with_the_label_columns_name(pretrain_calls):
    frame = make_mixed_frame(n_rows=60).rename(columns={"age": TARGET_COLUMN})
    with pytest.raises(ValueError, match=f"X has a column named '{TARGET_COLUMN}'"):
        _regressor(target_aware=True).fit(frame, np.arange(60.0))
    assert pretrain_calls == []


def test_target_aware_rejects_a_table_without_columns(pretrain_calls):
    # the label column must not make an empty table look like a one-column one
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(12, 0\)\) while a minimum"):
        _regressor(target_aware=True).fit(np.empty((12, 0)), np.arange(12.0))
    assert pretrain_calls == []


def test_target_aware_survives_clone_and_set_params():
    clf = _classifier(target_aware=True)
    assert clone(clf).get_params()["target_aware"] is True
    assert clone(clf).set_params(target_aware=False).target_aware is False
    assert TJEPARegressor().get_params()["target_aware"] is False


# --- fine-tuning: encoder learning rate, freezing, head ---------------------------------------


def test_encoder_has_its_own_learning_rate(semi_supervised):
    X, y = semi_supervised
    clf = _classifier(lr=1e-2, encoder_lr_ratio=0.1, max_epochs=1).fit(X, y)
    encoder_group, head_group = clf.net_.optimizer_.param_groups
    assert encoder_group["lr"] == pytest.approx(1e-3) and head_group["lr"] == pytest.approx(1e-2)
    encoder_params = {id(p) for p in clf.net_.module_.encoder.parameters()}
    assert {id(p) for p in encoder_group["params"]} == encoder_params


def test_freeze_epochs_keep_the_encoder_fixed(semi_supervised):
    X, y = semi_supervised
    probe = _classifier(freeze_epochs=2, max_epochs=2).fit(X, y)
    pretrained = _state(probe.tjepa_.encoder_)
    assert _same_state(_state(probe.net_.module_.encoder), pretrained)
    # the head got gradients in the last step, the encoder none
    assert all(p.grad is not None for p in probe.net_.module_.head.parameters())
    assert all(p.grad is None for p in probe.net_.module_.encoder.parameters())
    unfrozen = _classifier(freeze_epochs=1, max_epochs=2).fit(X, y)
    assert not _same_state(_state(unfrozen.net_.module_.encoder), pretrained)
    assert all(p.requires_grad for p in unfrozen.net_.module_.encoder.parameters())


@pytest.mark.parametrize("readout", READOUTS)
@pytest.mark.parametrize("head_n_blocks", [0, 2])
def test_network_readouts_and_heads(readout, head_n_blocks, X_numeric):
    tjepa = _tjepa(random_state=0, max_epochs=0).fit(X_numeric)
    network = build_finetune_network(
        tjepa.model_spec_, tjepa.encoder_.state_dict(), readout=readout, d_out=3,
        head_n_blocks=head_n_blocks, head_d_block=16, head_dropout=0.0,
    )
    x_num = torch.from_numpy(tjepa.preprocessor_.transform(X_numeric).x_num[:7])
    out = network(x_num, torch.zeros(7, 0, dtype=torch.long))
    assert out.shape == (7, 3)
    out.sum().backward()  # every parameter of the encoder is trained
    assert all(p.grad is not None for p in network.encoder.parameters())
    assert all(p.grad is None for p in tjepa.encoder_.parameters())


# --- validation sets and early stopping -------------------------------------------------------


def test_validation_fraction_early_stopping_restores_the_best_epoch(semi_supervised):
    X, y = semi_supervised
    clf = _classifier(validation_fraction=0.25, max_epochs=6, patience=2).fit(X, y)
    losses = [row["valid_loss"] for row in clf.history_]
    assert clf.n_iter_ == len(clf.history_) <= 6
    assert clf.best_epoch_ == 1 + int(np.argmin(losses))


def test_explicit_validation_set_drives_early_stopping(semi_supervised):
    X, y = semi_supervised
    rng = np.random.default_rng(3)
    X_val = rng.normal(size=(50, X.shape[1]))
    y_val = (X_val[:, 0] + 0.5 * X_val[:, 1] > 0).astype(int)
    y_val[:10] = -1  # left out of the validation loss
    clf = _classifier(validation_fraction=0.5, max_epochs=4, patience=10).fit(X, y, X_val, y_val)
    best = clf.history_[clf.best_epoch_ - 1]["valid_loss"]
    # the restored weights give the recorded loss on the labelled validation rows
    proba = clf.predict_proba(X_val[10:])
    proba /= proba.sum(axis=1, keepdims=True)  # float32 softmax, summed in float64
    assert log_loss(y_val[10:], proba, labels=clf.classes_) == pytest.approx(best, rel=1e-4)
    # training used every labelled row (validation_fraction is ignored)
    batches = clf.net_.history[0]["batches"]
    assert sum(batch.get("train_batch_size", 0) for batch in batches) == (y != -1).sum()
    assert clf.net_.train_split is None  # no copy of the validation rows stays in the model


def test_validation_set_errors(semi_supervised):
    X, y = semi_supervised
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        _classifier().fit(X, y, X_val=X[:5])
    with pytest.raises(ValueError, match=r"not in the training target y: \[7\]"):
        _classifier().fit(X, y, X_val=X[:5], y_val=[0, 1, 7, 0, 1])
    with pytest.raises(ValueError, match="y_val has no labelled row"):
        _classifier().fit(X, y, X_val=X[:3], y_val=[-1, -1, -1])
    with pytest.raises(ValueError, match="X has 2 features"):
        _classifier().fit(X, y, X_val=X[:5, :2], y_val=[0, 1, 1, 0, 1])


def test_validation_set_is_routed_as_metadata(binary_problem):
    X, y = binary_problem
    X_val, y_val = X[:30] + 0.1, y[:30]
    with config_context(enable_metadata_routing=True):
        reg = _regressor(validation_fraction=0.2).set_fit_request(X_val=True, y_val=True)
        result = cross_validate(
            reg, X, y.astype(float), params={"X_val": X_val, "y_val": y_val}, cv=2,
            return_estimator=True,
        )
    for fitted in result["estimator"]:
        # every epoch was scored on the 30 routed validation rows
        assert all(row["valid_batch_count"] == 1 for row in fitted.history_)
        assert fitted.best_epoch_ is not None


# --- reproducibility, persistence, progress ---------------------------------------------------


@pytest.mark.parametrize("make", [_classifier, _regressor], ids=["classifier", "regressor"])
def test_rows_are_predicted_independently(make, binary_problem):
    # sklearn's check_methods_subset_invariance asks for 1e-7; float32 kernels differ by an ulp.
    X, y = binary_problem
    model = make().fit(X, y if make is _classifier else y.astype(float))
    method = model.predict_proba if make is _classifier else model.predict
    together = method(X)
    by_row = np.concatenate([method(X[[i]]) for i in range(0, len(X), 37)])
    np.testing.assert_allclose(by_row, together[::37], rtol=1e-5, atol=1e-6)


def test_int_random_state_gives_bit_identical_predictions(semi_supervised):
    X, y = semi_supervised
    torch.manual_seed(123)
    caller_state = torch.random.get_rng_state()
    first = _classifier(validation_fraction=0.25).fit(X, y)
    proba = first.predict_proba(X)
    assert torch.equal(torch.random.get_rng_state(), caller_state)
    second = _classifier(validation_fraction=0.25).fit(X, y)
    np.testing.assert_array_equal(second.predict_proba(X), proba)
    third = _classifier(validation_fraction=0.25, random_state=1).fit(X, y)
    assert not np.array_equal(third.predict_proba(X), proba)


def test_pickle_and_joblib_round_trip(tmp_path):
    frame = make_mixed_frame(n_rows=80, with_missing=True)
    y = np.random.default_rng(0).normal(size=80)
    reg = _regressor(freeze_epochs=1, validation_fraction=0.2).fit(frame, y)  # all callbacks
    expected = reg.predict(frame)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(frame), expected)
    joblib.dump(reg, tmp_path / "reg.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "reg.joblib").predict(frame), expected)


def test_net_recorded_on_cuda_loads_on_a_cpu_only_machine(semi_supervised):
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    X, y = semi_supervised
    clf = _classifier().fit(X, y)
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"  # as after a fit on a GPU: skorch maps the weights on loading
    with pytest.warns(DeviceWarning):
        loaded = pickle.loads(pickle.dumps(clf))
    assert str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def test_verbose_prints_the_epoch_log(semi_supervised, capsys):
    X, y = semi_supervised
    _classifier(verbose=1, max_epochs=2).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "epoch" in out
    _classifier(verbose=0, max_epochs=1).fit(X, y)
    assert capsys.readouterr().out == ""


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"tjepa": "tjepa"}, TypeError, "tjepa must be None, a TJEPATransformer"),
        ({"readout": "max"}, ValueError, "readout must be one of"),
        ({"head_n_blocks": -1}, ValueError, "head_n_blocks must be a non-negative int"),
        ({"head_dropout": 1.0}, ValueError, "head_dropout must be a float in"),
        ({"encoder_lr_ratio": 0.0}, ValueError, "encoder_lr_ratio must be a positive float"),
        ({"freeze_epochs": 1.5}, TypeError, "freeze_epochs must be a non-negative int"),
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction must be None or"),
        ({"target_aware": "yes"}, TypeError, "target_aware must be a bool"),
    ],
)
def test_invalid_parameters_are_rejected_in_fit(params, error, match, semi_supervised):
    X, y = semi_supervised
    clf = _classifier(**params)  # the constructor stores them as they are
    with pytest.raises(error, match=match):
        clf.fit(X, y)


@pytest.mark.filterwarnings("ignore:precision='bf16' on cpu, which has no native:UserWarning")
@pytest.mark.parametrize("precision, recompute", [("bf16", True), ("32", False)])
def test_pretraining_uses_the_transformers_precision_and_recompute(binary_problem, precision, recompute):
    X, y = binary_problem
    clf = _classifier(tjepa=_tjepa(precision=precision, recompute=recompute), max_epochs=1).fit(X, y)
    assert clf.tjepa_.precision_ == precision and clf.tjepa_.recompute_ is recompute
    assert {record["precision"] for record in clf.tjepa_.history_} == {precision}
