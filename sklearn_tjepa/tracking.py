"""Experiment tracking: callbacks that log a fit to MLflow or TensorBoard.

Both loggers are :class:`~sklearn_tjepa.callbacks.Callback` subclasses: pass them in the
``callbacks`` of :class:`~sklearn_tjepa.TJEPATransformer` and they log every epoch while it
trains. Estimators that take no callbacks (the fine-tuners and the skorch baselines, whose loop is
skorch's) are logged once fitted with :func:`log_fitted`, which replays their ``history_`` through
the same loggers.

A logger logs the record as it stands when its ``on_epoch_end`` runs: list it after the callbacks
that add entries (such as :class:`~sklearn_tjepa.callbacks.LinearProbe`'s ``probe_score``).
"""

from __future__ import annotations

import copy
import tempfile
import time
from numbers import Real
from pathlib import Path

import joblib
from sklearn.exceptions import NotFittedError

from sklearn_tjepa.baselines.skorch_base import _SkorchTabularBase
from sklearn_tjepa.callbacks import Callback
from sklearn_tjepa.estimator import TJEPATransformer

__all__ = ["MLflowLogger", "TensorBoardLogger", "log_fitted"]

# MLflow accepts at most this many parameters in one ``log_batch`` call.
_MLFLOW_PARAMS_PER_BATCH = 100

# The estimators of the package that keep a per-epoch ``history_``, as log_fitted's errors name them.
_WITH_HISTORY = (
    "TJEPATransformer, TJEPAClassifier, TJEPARegressor and the skorch baselines of "
    "sklearn_tjepa.baselines (the MLP, ResNet, FTTransformer, DCNv2 and AutoInt classifiers and "
    "regressors)"
)


def _import_mlflow():
    try:
        import mlflow
    except ImportError as exc:
        raise ImportError(
            "MLflowLogger needs MLflow: pip install 'sklearn-tjepa[mlflow]' "
            "(installs mlflow-skinny; the full mlflow package works too)"
        ) from exc
    return mlflow


def _import_summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ImportError(
            "TensorBoardLogger needs TensorBoard: pip install 'sklearn-tjepa[tensorboard]'"
        ) from exc
    return SummaryWriter


def _epoch_metrics(record: dict) -> dict[str, float]:
    """The numerical entries of a ``history_`` record, ``epoch`` and flags (bools) left out.

    Parameters
    ----------
    record : dict
        One epoch's row of ``history_``.

    Returns
    -------
    dict of str to float
        Name to value, in the record's order.
    """
    return {
        name: float(value)
        for name, value in record.items()
        if name != "epoch" and isinstance(value, Real) and not isinstance(value, bool)
    }


def _param_text(value) -> str:
    """A parameter's value as text; objects without a repr of their own show their class name."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_param_text(item) for item in value) + "]"
    if type(value).__repr__ is object.__repr__:
        return type(value).__name__
    return str(value)


def _flat_params(estimator) -> dict[str, str]:
    """``estimator.get_params(deep=True)`` as text, without the nested estimators themselves.

    The nested estimators' own parameters are kept (``tjepa__d_model``); the estimator objects
    are left out because those entries already describe them.

    Parameters
    ----------
    estimator : estimator
        Any object with scikit-learn's ``get_params``.

    Returns
    -------
    dict of str to str
        Parameter name to its value as text.
    """
    return {
        name: _param_text(value)
        for name, value in estimator.get_params(deep=True).items()
        if not hasattr(value, "get_params")
    }


class MLflowLogger(Callback):
    """Log a fit to MLflow: parameters, per-epoch metrics and the fitted estimator.

    ``on_train_begin`` creates a run and logs the estimator's parameters (``get_params(deep=True)``
    as text); ``on_epoch_end`` logs the numerical entries of the epoch's record (loss, lr,
    momentum, embedding spread, probe score, ...) with the epoch as the step; ``on_train_end``
    logs the fitted estimator as a joblib file and marks the run finished. A run whose fit failed
    is marked failed when the logger starts its next run.

    Needs the ``mlflow`` extra (``pip install 'sklearn-tjepa[mlflow]'``, which installs
    ``mlflow-skinny``; the full ``mlflow`` package works too).

    Parameters
    ----------
    tracking_uri : str or None, default=None
        Where runs are stored: a tracking server (``"http://host:5000"``), a database
        (``"sqlite:///mlflow.db"``, needs the full ``mlflow`` package) or a directory
        (``"file:///path/mlruns"``; MLflow 3 refuses this store unless the environment variable
        ``MLFLOW_ALLOW_FILE_STORE=true`` is set). None takes MLflow's current tracking URI
        (``mlflow.set_tracking_uri`` or ``MLFLOW_TRACKING_URI``).
    experiment_name : str or None, default=None
        Experiment of the runs, created when missing. With neither ``experiment_name`` nor
        ``experiment_id``, the experiment is found as MLflow finds it: the parent run's with
        ``parent_run_id``; else the active one (made so by ``mlflow.set_experiment`` or by the
        environment variable ``MLFLOW_EXPERIMENT_NAME``, created when missing, or
        ``MLFLOW_EXPERIMENT_ID``); else MLflow's default experiment (``"Default"``, created when
        the store has none).
    experiment_id : str or None, default=None
        Id of an existing experiment of the runs, instead of ``experiment_name``.
    run_name : str or None, default=None
        Name of the runs; None lets MLflow pick one.
    tags : dict of str to str or None, default=None
        Tags set on every run.
    parent_run_id : str or None, default=None
        Log runs as children of this run, e.g. one run per candidate of a ``GridSearchCV``
        under the search's run.
    log_estimator : bool, default=True
        Log the fitted estimator as ``<artifact_path>/estimator.joblib``.
    artifact_path : str, default="estimator"
        Directory of the estimator among the run's artifacts.

    Attributes
    ----------
    run_id_ : str
        The run of the latest fit.

    Notes
    -----
    The logged estimator is a copy with ``callbacks=None``: callbacks may hold data (a
    probe's rows) or open writers. Load it with ``joblib.load`` only from stores you trust:
    unpickling runs code.

    Under ``clone`` (``GridSearchCV``, ``cross_validate``) every clone of the estimator gets a
    new logger built from the same parameters, so every fit is its own run.

    Examples
    --------
    >>> from sklearn_tjepa import TJEPATransformer
    >>> from sklearn_tjepa.tracking import MLflowLogger
    >>> logger = MLflowLogger(tracking_uri="sqlite:///mlflow.db", experiment_name="tjepa")
    >>> TJEPATransformer(callbacks=[logger]).fit(X)  # doctest: +SKIP
    >>> logger.run_id_  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        tracking_uri=None,
        experiment_name=None,
        experiment_id=None,
        run_name=None,
        tags=None,
        parent_run_id=None,
        log_estimator=True,
        artifact_path="estimator",
    ):
        _import_mlflow()
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.experiment_id = experiment_id
        self.run_name = run_name
        self.tags = tags
        self.parent_run_id = parent_run_id
        self.log_estimator = log_estimator
        self.artifact_path = artifact_path

    def _client(self):
        return _import_mlflow().MlflowClient(tracking_uri=self.tracking_uri)

    def _experiment_id(self, client) -> str:
        """The experiment of the run, found as MLflow's own ``start_run`` finds it.

        The explicit argument, else the parent run's experiment, else the active experiment
        (``mlflow.set_experiment``, then ``MLFLOW_EXPERIMENT_NAME``, then ``MLFLOW_EXPERIMENT_ID``),
        else the default experiment, created when the store has none.
        """
        from mlflow.entities import Experiment
        from mlflow.environment_variables import MLFLOW_EXPERIMENT_ID, MLFLOW_EXPERIMENT_NAME
        from mlflow.tracking import fluent

        if self.experiment_name is not None and self.experiment_id is not None:
            raise ValueError(
                "MLflowLogger takes experiment_name or experiment_id, not both, got "
                f"experiment_name={self.experiment_name!r} and experiment_id={self.experiment_id!r}"
            )
        if self.experiment_name is not None:
            return _named_experiment(client, self.experiment_name)
        if self.experiment_id is not None:
            return _existing_experiment(client, self.experiment_id, "experiment_id")
        if self.parent_run_id is not None:
            return client.get_run(self.parent_run_id).info.experiment_id
        # mlflow.set_experiment keeps the active experiment here (and in MLFLOW_EXPERIMENT_ID).
        active = getattr(fluent, "_active_experiment_id", None)
        if active is not None:
            return _existing_experiment(client, active, "the experiment made active by mlflow.set_experiment")
        if MLFLOW_EXPERIMENT_NAME.get() is not None:
            return _named_experiment(client, MLFLOW_EXPERIMENT_NAME.get())
        if MLFLOW_EXPERIMENT_ID.get() is not None:
            return _existing_experiment(client, MLFLOW_EXPERIMENT_ID.get(), "MLFLOW_EXPERIMENT_ID")
        # A store whose directory existed before MLflow opened it has no default experiment yet.
        return _named_experiment(client, Experiment.DEFAULT_EXPERIMENT_NAME)

    def on_train_begin(self, est, **kwargs) -> None:
        """Create the run and log ``est``'s parameters; mark an unfinished previous run failed."""
        from mlflow.entities import Param
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        client = self._client()
        unfinished = getattr(self, "_unfinished_run_id", None)
        if unfinished is not None:
            client.set_terminated(unfinished, status="FAILED")
        tags = dict(self.tags or {})
        if self.parent_run_id is not None:
            tags[MLFLOW_PARENT_RUN_ID] = self.parent_run_id
        run = client.create_run(self._experiment_id(client), run_name=self.run_name, tags=tags)
        self.run_id_ = run.info.run_id
        self._unfinished_run_id = self.run_id_
        params = [Param(name, value) for name, value in _flat_params(est).items()]
        for start in range(0, len(params), _MLFLOW_PARAMS_PER_BATCH):
            client.log_batch(self.run_id_, params=params[start : start + _MLFLOW_PARAMS_PER_BATCH])

    def on_epoch_end(self, est, record: dict, **kwargs) -> None:
        """Log the record's numerical entries with ``record["epoch"]`` as the step."""
        from mlflow.entities import Metric

        timestamp = int(time.time() * 1000)
        metrics = [
            Metric(name, value, timestamp, int(record["epoch"]))
            for name, value in _epoch_metrics(record).items()
        ]
        self._client().log_batch(self.run_id_, metrics=metrics)

    def on_train_end(self, est, **kwargs) -> None:
        """Log the fitted estimator (with ``log_estimator=True``) and finish the run."""
        client = self._client()
        if self.log_estimator:
            logged = copy.copy(est)
            if "callbacks" in logged.get_params(deep=False):
                logged.set_params(callbacks=None)
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / "estimator.joblib"
                joblib.dump(logged, path)
                client.log_artifact(self.run_id_, str(path), artifact_path=self.artifact_path)
        client.set_terminated(self.run_id_, status="FINISHED")
        self._unfinished_run_id = None


def _named_experiment(client, name: str) -> str:
    """The id of the experiment called ``name``, created when missing."""
    experiment = client.get_experiment_by_name(name)
    return client.create_experiment(name) if experiment is None else experiment.experiment_id


def _existing_experiment(client, experiment_id: str, source: str) -> str:
    """``experiment_id`` after checking that the store has it; ``source`` says where it came from."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_experiment(experiment_id).experiment_id
    except MlflowException as exc:
        raise ValueError(
            f"There is no experiment with id {experiment_id!r} ({source}) in the MLflow store at "
            f"{client.tracking_uri!r}; pass an experiment_name (created when missing) or the id "
            "of an experiment of this store"
        ) from exc


class TensorBoardLogger(Callback):
    """Write a fit's per-epoch scalars to TensorBoard event files.

    ``on_epoch_end`` adds every numerical entry of the epoch's record (loss, lr, momentum,
    embedding spread, probe score, ...) as a scalar with the epoch as the step, through
    :class:`torch.utils.tensorboard.SummaryWriter`; ``on_train_end`` closes the file. View them
    with ``tensorboard --logdir <log_dir>``.

    Needs the ``tensorboard`` extra (``pip install 'sklearn-tjepa[tensorboard]'``).

    Parameters
    ----------
    log_dir : str or path-like or None, default=None
        Directory of the event files. None gives every fit a new directory
        ``runs/<date>_<host>`` (the ``SummaryWriter`` default); a fixed directory collects
        every fit's events in one run, so give each fit its own.
    tag_prefix : str, default=""
        Prefix of every scalar's tag, e.g. ``"pretrain/"``.

    Attributes
    ----------
    log_dir_ : str
        The directory of the latest fit's event file.

    Examples
    --------
    >>> from sklearn_tjepa import TJEPATransformer
    >>> from sklearn_tjepa.tracking import TensorBoardLogger
    >>> TJEPATransformer(callbacks=[TensorBoardLogger(log_dir="runs/tjepa")]).fit(X)  # doctest: +SKIP
    """

    def __init__(self, *, log_dir=None, tag_prefix=""):
        _import_summary_writer()
        self.log_dir = log_dir
        self.tag_prefix = tag_prefix

    def on_train_begin(self, est, **kwargs) -> None:
        """Open the event file; close one left open by a failed fit."""
        if getattr(self, "_writer", None) is not None:
            self._writer.close()
        self._writer = _import_summary_writer()(log_dir=None if self.log_dir is None else str(self.log_dir))
        self.log_dir_ = self._writer.log_dir

    def on_epoch_end(self, est, record: dict, **kwargs) -> None:
        """Add the record's numerical entries as scalars at step ``record["epoch"]``."""
        step = int(record["epoch"])
        for name, value in _epoch_metrics(record).items():
            self._writer.add_scalar(f"{self.tag_prefix}{name}", value, global_step=step)

    def on_train_end(self, est, **kwargs) -> None:
        """Flush and close the event file."""
        self._writer.close()
        self._writer = None

    def __getstate__(self):
        # A writer (open file, thread) does not pickle; a fitted estimator's callbacks must.
        state = self.__dict__.copy()
        state.pop("_writer", None)
        return state


def log_fitted(estimator, loggers) -> None:
    """Log a fitted estimator by replaying its ``history_`` through ``loggers``.

    For estimators that take no callbacks, such as :class:`~sklearn_tjepa.TJEPAClassifier`,
    :class:`~sklearn_tjepa.TJEPARegressor` and the skorch baselines of
    :mod:`sklearn_tjepa.baselines` (their training loop is skorch's), and for a
    :class:`~sklearn_tjepa.TJEPATransformer` fitted without loggers: each logger gets
    ``on_train_begin``, ``on_epoch_end`` with a copy of every record of ``history_``, then
    ``on_train_end``, as if it had watched the fit. The gradient-boosted tree baselines
    (:class:`~sklearn_tjepa.baselines.GBDTClassifier`, ``GBDTRegressor``) keep no per-epoch
    history and are refused.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator with a ``history_`` list of per-epoch dicts that have an ``epoch``
        entry: one of the estimators above, or any other that keeps such a history.
    loggers : list of Callback
        The loggers, e.g. ``[MLflowLogger(), TensorBoardLogger()]``.

    Raises
    ------
    TypeError
        If ``estimator`` keeps no per-epoch ``history_`` (a GBDT baseline, for example).
    sklearn.exceptions.NotFittedError
        If ``estimator`` keeps one but is not fitted yet.

    Examples
    --------
    >>> from sklearn_tjepa import TJEPAClassifier
    >>> from sklearn_tjepa.tracking import MLflowLogger, log_fitted
    >>> clf = TJEPAClassifier().fit(X, y)  # doctest: +SKIP
    >>> log_fitted(clf, [MLflowLogger(experiment_name="fine-tuning")])  # doctest: +SKIP
    """
    history = getattr(estimator, "history_", None)
    if history is None and isinstance(estimator, (TJEPATransformer, _SkorchTabularBase)):
        raise NotFittedError(
            f"log_fitted needs a fitted estimator, got an unfitted {type(estimator).__name__} "
            "(no history_ yet): call fit first"
        )
    if history is None:
        raise TypeError(
            f"{type(estimator).__name__} keeps no per-epoch history_ for log_fitted to replay; "
            f"log_fitted supports {_WITH_HISTORY}"
        )
    for logger in loggers:
        logger.on_train_begin(estimator)
        for record in history:
            logger.on_epoch_end(estimator, record=dict(record))
        logger.on_train_end(estimator)
