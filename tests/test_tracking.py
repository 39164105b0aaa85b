"""Tracking callbacks against real stores: an MLflow file store and TensorBoard event files."""

import pickle
import sys

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from conftest import TINY_PARAMS
from sklearn_tjepa.callbacks import Callback, LinearProbe

mlflow = pytest.importorskip("mlflow", reason="needs the mlflow extra")
pytest.importorskip("tensorboard", reason="needs the tensorboard extra")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from sklearn_tjepa.tracking import MLflowLogger, TensorBoardLogger, log_fitted  # noqa: E402


class _Fail(Callback):
    """Raise at the end of the first epoch."""

    def on_epoch_end(self, est, record):
        raise RuntimeError("stop here")


class _Pickle(Callback):
    """Pickle the estimator at every epoch end (as a user's checkpointing callback could)."""

    def on_epoch_end(self, est, record):
        pickle.dumps(est)


@pytest.fixture(autouse=True)
def no_active_experiment(monkeypatch):
    """No experiment made active by the environment or by an earlier ``mlflow.set_experiment``."""
    from mlflow.tracking import fluent

    for name in ("MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """URI of a fresh MLflow file store (MLflow 3 refuses it unless this variable is set)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    """URI of a fresh MLflow file store in an existing empty directory: it has no experiment yet,
    not even MLflow's default one."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    directory = tmp_path / "empty-store"
    directory.mkdir()
    return directory.as_uri()


@pytest.fixture(scope="module")
def fitted(X_numeric_module):
    from sklearn_tjepa import TJEPATransformer

    return TJEPATransformer(**{**TINY_PARAMS, "random_state": 0}).fit(X_numeric_module)


@pytest.fixture(scope="module")
def X_numeric_module():
    return np.random.default_rng(0).normal(size=(64, 4))


def _experiment_of(store, run_id):
    client = mlflow.MlflowClient(tracking_uri=store)
    return client.get_experiment(client.get_run(run_id).info.experiment_id).name


def _metric_history(client, run_id, name):
    return [(m.step, m.value) for m in client.get_metric_history(run_id, name)]


def test_mlflow_logger_logs_params_metrics_and_the_fitted_estimator(make, binary_problem, store, tmp_path):
    X, y = binary_problem
    probe = LinearProbe(X[:80], y[:80], X[80:], y[80:])
    logger = MLflowLogger(tracking_uri=store, experiment_name="tjepa", run_name="tiny", tags={"team": "docs"})
    est = make(callbacks=[probe, logger]).fit(X)

    client = mlflow.MlflowClient(tracking_uri=store)
    run = client.get_run(logger.run_id_)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "tiny"
    assert client.get_experiment(run.info.experiment_id).name == "tjepa"
    assert run.data.tags["team"] == "docs"
    params = run.data.params
    assert params["d_model"] == "8"
    assert params["mask_min_context_share"] == str(est.mask_min_context_share)
    assert params["categorical_features"] == "auto"
    assert params["grad_clip"] == "None"
    assert params["callbacks"] == "[LinearProbe, MLflowLogger]"
    for name in ("loss", "lr", "momentum", "effective_rank", "probe_score"):
        expected = [(r["epoch"], pytest.approx(r[name])) for r in est.history_]
        assert _metric_history(client, logger.run_id_, name) == expected, name

    path = mlflow.artifacts.download_artifacts(
        run_id=logger.run_id_, artifact_path="estimator/estimator.joblib", tracking_uri=store, dst_path=tmp_path
    )
    loaded = joblib.load(path)
    assert loaded.callbacks is None
    assert est.callbacks == [probe, logger]  # the fitted estimator keeps its callbacks
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_mlflow_logger_gives_every_grid_search_fit_a_child_run(make, binary_problem, store):
    X, _ = binary_problem
    client = mlflow.MlflowClient(tracking_uri=store)
    parent = client.create_run(client.create_experiment("search"))
    logger = MLflowLogger(tracking_uri=store, parent_run_id=parent.info.run_id, log_estimator=False)
    grid = {"mask_max_target_share": [0.5, 0.7]}
    search = GridSearchCV(make(max_epochs=1, callbacks=[logger]), grid, cv=2, scoring=lambda est, X, y=None: 0.0)
    search.fit(X)

    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    # 2 candidates x 2 folds, then the refit; each clone of the estimator got its own logger.
    assert len(children) == 5
    assert sorted(run.data.params["mask_max_target_share"] for run in children) == ["0.5", "0.5", "0.5", "0.7", "0.7"]
    assert all(run.info.status == "FINISHED" for run in children)
    assert not hasattr(logger, "run_id_")


def test_mlflow_logger_marks_a_failed_fit_failed_at_its_next_run(make, X_numeric, store):
    logger = MLflowLogger(tracking_uri=store, log_estimator=False)
    with pytest.raises(RuntimeError, match="stop here"):
        make(callbacks=[logger, _Fail()]).fit(X_numeric)
    failed = logger.run_id_
    client = mlflow.MlflowClient(tracking_uri=store)
    assert client.get_run(failed).info.status == "RUNNING"
    assert _metric_history(client, failed, "loss")[0][0] == 1

    make(callbacks=[logger]).fit(X_numeric)
    assert client.get_run(failed).info.status == "FAILED"
    assert client.get_run(logger.run_id_).info.status == "FINISHED"


def test_tensorboard_logger_writes_every_epoch_scalar(make, X_numeric, tmp_path):
    logger = TensorBoardLogger(log_dir=tmp_path / "tb", tag_prefix="pretrain/")
    est = make(max_epochs=3, callbacks=[logger, _Pickle()]).fit(X_numeric)

    assert logger.log_dir_ == str(tmp_path / "tb")
    events = EventAccumulator(logger.log_dir_)
    events.Reload()
    assert {"pretrain/loss", "pretrain/lr", "pretrain/embedding_std"} <= set(events.Tags()["scalars"])
    assert "pretrain/epoch" not in events.Tags()["scalars"]
    for name in ("loss", "lr", "embedding_std"):
        scalars = events.Scalars(f"pretrain/{name}")
        assert [s.step for s in scalars] == [1, 2, 3]
        np.testing.assert_allclose([s.value for s in scalars], [r[name] for r in est.history_], rtol=1e-6)
    # the writer is closed and left out of pickles: the fitted estimator round-trips
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X_numeric), est.transform(X_numeric))


def test_log_fitted_replays_the_history_of_an_estimator_without_callbacks(make, X_numeric, store, tmp_path):
    est = make().fit(X_numeric)
    mlflow_logger = MLflowLogger(tracking_uri=store)
    tensorboard_logger = TensorBoardLogger(log_dir=tmp_path / "tb")
    log_fitted(est, [mlflow_logger, tensorboard_logger])

    client = mlflow.MlflowClient(tracking_uri=store)
    expected = [(r["epoch"], pytest.approx(r["loss"])) for r in est.history_]
    assert _metric_history(client, mlflow_logger.run_id_, "loss") == expected
    assert client.get_run(mlflow_logger.run_id_).info.status == "FINISHED"
    events = EventAccumulator(tensorboard_logger.log_dir_)
    events.Reload()
    assert [s.step for s in events.Scalars("loss")] == [1, 2]


def test_log_fitted_needs_a_history(make):
    with pytest.raises(ValueError, match="history_"):
        log_fitted(make(), [])


def test_log_fitted_replays_a_skorch_baseline(store):
    from sklearn_tjepa.baselines import MLPRegressor

    X = np.random.default_rng(0).normal(size=(60, 3))
    model = MLPRegressor(n_blocks=1, d_block=8, max_epochs=3, batch_size=16, device="cpu", random_state=0)
    model.fit(X, X[:, 0])
    assert [r["epoch"] for r in model.history_] == [1, 2, 3] and model.n_iter_ == 3
    logger = MLflowLogger(tracking_uri=store, log_estimator=False)
    log_fitted(model, [logger])

    client = mlflow.MlflowClient(tracking_uri=store)
    for name in ("train_loss", "valid_loss", "dur"):
        expected = [(r["epoch"], pytest.approx(r[name])) for r in model.net_.history]
        assert _metric_history(client, logger.run_id_, name) == expected, name


def test_log_fitted_refuses_a_gbdt_baseline_naming_what_it_supports():
    from sklearn_tjepa.baselines import make_gbdt

    X = np.random.default_rng(0).normal(size=(40, 3))
    model = make_gbdt("hist_gradient_boosting", task="regression", max_iter=3).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r"GBDTRegressor.*TJEPATransformer, TJEPAClassifier, TJEPARegressor"):
        log_fitted(model, [])


# ---------------------------------------------------------------- MLflow's experiment resolution


def test_mlflow_logger_takes_the_default_experiment_of_a_fresh_store(fitted, empty_store):
    logger = MLflowLogger(tracking_uri=empty_store, log_estimator=False)
    log_fitted(fitted, [logger])
    assert _experiment_of(empty_store, logger.run_id_) == "Default"


@pytest.mark.parametrize("by", ["name", "id"])
def test_mlflow_logger_takes_the_experiment_it_is_given(fitted, empty_store, by):
    client = mlflow.MlflowClient(tracking_uri=empty_store)
    given = {"name": {"experiment_name": "given"}, "id": {"experiment_id": client.create_experiment("given")}}[by]
    logger = MLflowLogger(tracking_uri=empty_store, log_estimator=False, **given)
    log_fitted(fitted, [logger])
    assert _experiment_of(empty_store, logger.run_id_) == "given"


def test_mlflow_logger_refuses_both_an_experiment_name_and_id(fitted, empty_store):
    logger = MLflowLogger(tracking_uri=empty_store, experiment_name="a", experiment_id="1")
    with pytest.raises(ValueError, match="experiment_name or experiment_id, not both"):
        log_fitted(fitted, [logger])


def test_mlflow_logger_takes_the_experiment_set_active_with_mlflow(fitted, empty_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", empty_store)
    mlflow.set_experiment("made-active")
    logger = MLflowLogger(log_estimator=False)
    log_fitted(fitted, [logger])
    assert _experiment_of(empty_store, logger.run_id_) == "made-active"


@pytest.mark.parametrize("variable", ["MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"])
def test_mlflow_logger_takes_the_experiment_named_by_the_environment(fitted, empty_store, monkeypatch, variable):
    if variable == "MLFLOW_EXPERIMENT_NAME":
        monkeypatch.setenv(variable, "from-environment")  # created when missing, as MLflow does
    else:
        monkeypatch.setenv(variable, mlflow.MlflowClient(tracking_uri=empty_store).create_experiment("from-environment"))
    logger = MLflowLogger(tracking_uri=empty_store, log_estimator=False)
    log_fitted(fitted, [logger])
    assert _experiment_of(empty_store, logger.run_id_) == "from-environment"


def test_an_explicit_experiment_wins_over_the_active_one(fitted, empty_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-environment")
    logger = MLflowLogger(tracking_uri=empty_store, experiment_name="given", log_estimator=False)
    log_fitted(fitted, [logger])
    assert _experiment_of(empty_store, logger.run_id_) == "given"


@pytest.mark.parametrize(
    ("module", "make_logger", "extra"),
    [
        ("mlflow", lambda: MLflowLogger(), r"sklearn-tjepa\[mlflow\]"),
        ("torch.utils.tensorboard", lambda: TensorBoardLogger(), r"sklearn-tjepa\[tensorboard\]"),
    ],
)
def test_a_missing_package_names_the_extra(monkeypatch, module, make_logger, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes ``import module`` raise ImportError
    with pytest.raises(ImportError, match=extra):
        make_logger()


def test_fine_tuner_logs_its_pretraining_live_and_its_fine_tuning_with_log_fitted(tiny_params, binary_problem, store):
    from sklearn_tjepa import TJEPAClassifier, TJEPATransformer

    X, y = binary_problem
    y = y.copy()
    y[100:] = -1  # unlabelled rows: pretraining only
    pretraining = MLflowLogger(tracking_uri=store, experiment_name="finetune", run_name="pretraining")
    tjepa = TJEPATransformer(**tiny_params, callbacks=[pretraining])
    clf = TJEPAClassifier(tjepa=tjepa, max_epochs=3, batch_size=32, device="cpu", random_state=0).fit(X, y)
    fine_tuning = MLflowLogger(tracking_uri=store, experiment_name="finetune", run_name="fine-tuning")
    log_fitted(clf, [fine_tuning])

    client = mlflow.MlflowClient(tracking_uri=store)
    runs = {run.info.run_name: run for run in client.search_runs([client.get_experiment_by_name("finetune").experiment_id])}
    assert set(runs) == {"pretraining", "fine-tuning"}
    pretrain_id, finetune_id = runs["pretraining"].info.run_id, runs["fine-tuning"].info.run_id
    assert [step for step, _ in _metric_history(client, pretrain_id, "loss")] == [1, 2]
    expected = [(r["epoch"], pytest.approx(r["train_loss"])) for r in clf.history_]
    assert _metric_history(client, finetune_id, "train_loss") == expected
    assert "train_loss_best" not in runs["fine-tuning"].data.metrics  # flags are not metrics
    params = runs["fine-tuning"].data.params
    assert params["tjepa__d_model"] == "8" and params["max_epochs"] == "3" and "tjepa" not in params
    path = mlflow.artifacts.download_artifacts(
        run_id=finetune_id, artifact_path="estimator/estimator.joblib", tracking_uri=store
    )
    np.testing.assert_array_equal(joblib.load(path).predict_proba(X), clf.predict_proba(X))
