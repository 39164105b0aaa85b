"""The downstream models of the grid, by name, with the budget's limits applied.

Nine baselines come from :mod:`sklearn_tjepa.baselines` with their per-dataset configuration
(:func:`~sklearn_tjepa.baselines.load_config`, shipped with the package); ``linear`` is logistic regression (classification) or ridge regression,
its regularisation chosen on the val split. ``finetune`` is
:class:`~sklearn_tjepa.TJEPAClassifier` / :class:`~sklearn_tjepa.TJEPARegressor`: it reads the raw
columns and fine-tunes the cached encoder of its feature set, pretrained on every train row with
the labels hidden (``tjepa``) or untrained (``untrained``), or pretrains the ``tjepa``
configuration itself with the labelled rows' labels as one more column (``target``,
``target_aware=True``); see :func:`build_model`. Every model
is fitted as ``fit(X, y, X_val=X_val, y_val=y_val)``: early stopping and model selection see val
rows only.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import make_column_transformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_tjepa.baselines import DEEP_MODELS, GBDT_NAMES, load_config, make_baseline
from sklearn_tjepa.bench.pretrain import TARGET_AWARE, tjepa_params
from sklearn_tjepa.estimator import TJEPATransformer
from sklearn_tjepa.finetune import TJEPAClassifier, TJEPARegressor
from sklearn_tjepa.probes import linear_probe

__all__ = ["DEFAULT_MODELS", "FINETUNE_MODELS", "MODELS", "LinearBaseline", "build_model"]

#: T-JEPA fine-tuned end to end on the raw columns, from the cached encoder of its feature set
#: (``finetune+tjepa``: pretrained; ``finetune+untrained``: the from-scratch control) or from
#: its own target-aware pretraining (``finetune+target``).
FINETUNE_MODELS = ("finetune",)
#: The models of a run without ``--models`` (the budgets are sized for them).
DEFAULT_MODELS = (*DEEP_MODELS, *GBDT_NAMES, "linear")
#: Every model name of the grid.
MODELS = (*DEFAULT_MODELS, *FINETUNE_MODELS)
# Name of the boosting-rounds parameter of each library.
_ROUNDS = {
    "xgboost": "n_estimators",
    "lightgbm": "n_estimators",
    "catboost": "iterations",
    "hist_gradient_boosting": "max_iter",
}
# Configuration keys the runner sets itself (the val split replaces validation_fraction).
_RUNNER_KEYS = ("validation_fraction", "early_stopping_rounds")


class LinearBaseline(BaseEstimator):
    """Logistic or ridge regression, its strength chosen on an explicit validation set.

    Categorical columns are one-hot encoded, numerical columns imputed (median) and
    standardised, all fitted on the training rows.

    Parameters
    ----------
    task : {"classification", "regression"}
    C_grid : tuple of float, default=(0.01, 0.1, 1.0, 10.0)
        Inverse regularisation strengths tried; ridge uses ``alpha = 1 / C``.
    categorical_features : list of str, default=()
        Columns to one-hot encode.

    Attributes
    ----------
    model_ : Pipeline
        The chosen model, fitted on the training rows.
    C_ : float
        The chosen strength.
    val_scores_ : dict of float -> float
        Validation accuracy (or negative RMSE) of each ``C``.
    """

    def __init__(self, *, task, C_grid=(0.01, 0.1, 1.0, 10.0), categorical_features=()):
        self.task = task
        self.C_grid = C_grid
        self.categorical_features = categorical_features

    def _pipeline(self, C: float):
        numerical = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        columns = list(self.categorical_features)
        encode = (
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), columns), remainder=numerical
            )
            if columns
            else numerical
        )
        return linear_probe(regression=self.task == "regression", C=C, max_iter=1000, preprocessing=encode)

    def fit(self, X, y, X_val=None, y_val=None):
        """Fit one model per ``C`` on ``(X, y)``; keep the best on ``(X_val, y_val)``.

        Without a validation set only the first ``C`` is fitted.
        """
        grid = tuple(self.C_grid) if X_val is not None else tuple(self.C_grid)[:1]
        self.val_scores_, best_score = {}, -np.inf
        for C in grid:
            model = self._pipeline(C).fit(X, y)
            score = 0.0
            if X_val is not None:
                predicted = model.predict(X_val)
                score = (
                    accuracy_score(y_val, predicted)
                    if self.task == "classification"
                    else -root_mean_squared_error(y_val, predicted)
                )
                self.val_scores_[C] = float(score)
            if score > best_score:
                best_score, self.C_, self.model_ = score, C, model
        if self.task == "classification":
            self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        """Prediction of the chosen model."""
        return self.model_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of the chosen model (classification)."""
        return self.model_.predict_proba(X)


def _config(code: str, name: str) -> tuple[dict, str]:
    try:
        config = load_config(code, name)
    except (FileNotFoundError, ValueError) as exc:
        return {}, f"estimator defaults ({exc})"
    return dict(config["params"]), config["source"]


def _finetuner(*, task, features, budget, seed, transformer):
    """A fine-tuner starting from the cached transformer of ``features``, frozen, or (``target``)
    pretraining the budget's T-JEPA configuration itself, target-aware."""
    params = {
        "max_epochs": budget.model_max_epochs.get("finetune", budget.deep_max_epochs),
        "patience": budget.deep_patience,
        "device": budget.tjepa.get("device", "auto"),
        **budget.deep_overrides.get("finetune", {}),
    }
    estimator = TJEPAClassifier if task == "classification" else TJEPARegressor
    if features == TARGET_AWARE:
        tjepa = TJEPATransformer(**tjepa_params(budget, features, seed))
        model = estimator(tjepa=tjepa, target_aware=True, random_state=seed, **params)
        starting_point = ("TJEPATransformer(budget's tjepa configuration), pretrained in fit on "
                          "every train row with the labelled rows' labels as one more column")
        return model, {"params": {**params, "tjepa": starting_point, "target_aware": True},
                       "config_source": "sklearn_tjepa.bench"}
    if features == "raw" or transformer is None:
        raise ValueError(
            "finetune starts from the cached transformer of features 'tjepa' (pretrained on every "
            "train row, labels hidden) or 'untrained' (max_epochs=0) and needs it as transformer, "
            f"or pretrains its own with features={TARGET_AWARE!r}; got features={features!r} and "
            f"transformer={type(transformer).__name__}"
        )
    # Frozen: fit copies the encoder's weights and fine-tunes the copy, without pretraining again.
    model = estimator(tjepa=FrozenEstimator(transformer), random_state=seed, **params)
    starting_point = f"frozen cached transformer ({features})"
    return model, {"params": {**params, "tjepa": starting_point},
                   "config_source": "sklearn_tjepa.bench"}


def build_model(name, *, data, features, budget, seed, token_width=None, transformer=None):
    """The estimator of one grid cell and the configuration it was built with.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    data : BenchData
    features : {"raw", "tjepa", "untrained", "target"}
        ``"target"`` (target-aware pretraining inside the fit) is for ``finetune`` only.
    budget : Budget
    seed : int
        ``random_state`` of the model.
    token_width : int or None
        Width of a T-JEPA token (for the per-token reading of embeddings).
    transformer : TJEPATransformer or None
        The cached transformer of ``features`` ("tjepa" or "untrained"), fitted on every train
        row without labels. ``finetune`` starts from it, frozen
        (:class:`sklearn.frozen.FrozenEstimator`), so it is not pretrained again; it has no
        ``features="raw"`` cell. None for ``features="target"``: that fine-tuner pretrains a
        ``TJEPATransformer`` of the budget's configuration with ``target_aware=True`` in its
        fit, on the rows passed to it (every train row, the unlabelled ones marked as such).

    Returns
    -------
    model : estimator
        Fitted later with ``fit(X, y, X_val=..., y_val=...)``.
    config : dict
        ``params`` as passed to the estimator and ``config_source``.
    """
    task = "regression" if data.task == "regression" else "classification"
    if features == TARGET_AWARE and name not in FINETUNE_MODELS:
        raise ValueError(
            f"features={TARGET_AWARE!r} is target-aware pretraining inside a fine-tuner's fit: "
            f"only {' and '.join(FINETUNE_MODELS)} has it, got model={name!r}"
        )
    embedded = features != "raw"
    if name == "linear":
        # The linear model keeps the raw columns beside any tokens (bench.inputs).
        categorical = tuple(data.frame.select_dtypes(exclude="number").columns)
        model = LinearBaseline(task=task, C_grid=tuple(budget.linear_C),
                               categorical_features=categorical)
        return model, {"params": model.get_params(), "config_source": "sklearn_tjepa.bench"}
    if name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got model={name!r}")
    if name in FINETUNE_MODELS:
        return _finetuner(task=task, features=features, budget=budget, seed=seed,
                          transformer=transformer)
    params, source = _config(data.code, name)
    for key in _RUNNER_KEYS:
        params.pop(key, None)
    if name in GBDT_NAMES:
        rounds = _ROUNDS[name]
        params[rounds] = min(params.get(rounds, budget.gbdt_max_rounds), budget.gbdt_max_rounds)
        params.update(budget.gbdt_overrides.get(name, {}))
        params["early_stopping_rounds"] = budget.gbdt_early_stopping_rounds
    else:
        max_epochs = budget.embedding_max_epochs if embedded else budget.deep_max_epochs
        max_epochs = budget.model_max_epochs.get(name, max_epochs)
        params["max_epochs"] = min(params.get("max_epochs", max_epochs), max_epochs)
        params["patience"] = min(params.get("patience", budget.deep_patience), budget.deep_patience)
        params.update(budget.deep_overrides.get(name, {}))
        if embedded:
            # Frozen embeddings are already on a common scale; the quantile map is for raw columns.
            params["numerical_scaling"] = "standard"
            if budget.token_reading == "per_token":
                params["token_width"] = token_width
    model = make_baseline(name, task=task, random_state=seed, **params)
    return model, {"params": params, "config_source": source}
