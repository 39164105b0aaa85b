"""Gradient-boosted trees with native categorical handling and early stopping, behind one factory.

:func:`make_gbdt` builds an XGBoost, LightGBM, CatBoost or scikit-learn HistGradientBoosting model
and wraps it in :class:`GBDTClassifier` or :class:`GBDTRegressor`. The wrapper encodes the table
with the shared :class:`~sklearn_tjepa.preprocessing.TablePreprocessor` (no scaling), hands the
categorical columns to the library natively (pandas ``category`` columns, or CatBoost's
``cat_features``) and stops boosting when the loss on validation rows (``X_val`` and ``y_val``
given to ``fit``, else a held-out share of the training rows) has not improved for
``early_stopping_rounds`` rounds.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone, is_classifier
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sklearn_tjepa._doc_links import DOC_LINK_MODULE, DOC_LINK_TEMPLATE, doc_link_url_params
from sklearn_tjepa.baselines._predict import ProbabilisticClassifierMixin
from sklearn_tjepa.preprocessing import TablePreprocessor
from sklearn_tjepa._checks import check_fraction, check_int, check_option, check_seed
from sklearn_tjepa.validation import check_validation_pair, validate_table, validate_target

__all__ = ["GBDT_NAMES", "GBDTClassifier", "GBDTRegressor", "make_gbdt"]

GBDT_NAMES = ("xgboost", "lightgbm", "catboost", "hist_gradient_boosting")
TASKS = ("classification", "regression")

# name -> (module, classifier class, regressor class, pip extra or None, defaults)
_LIBRARIES = {
    "xgboost": (
        "xgboost",
        "XGBClassifier",
        "XGBRegressor",
        "xgboost",
        {"n_estimators": 2000, "tree_method": "hist", "enable_categorical": True},
    ),
    "lightgbm": (
        "lightgbm",
        "LGBMClassifier",
        "LGBMRegressor",
        "lightgbm",
        {"n_estimators": 2000, "verbosity": -1},
    ),
    "catboost": (
        "catboost",
        "CatBoostClassifier",
        "CatBoostRegressor",
        "catboost",
        {"iterations": 2000, "verbose": False, "allow_writing_files": False},
    ),
    "hist_gradient_boosting": (
        "sklearn.ensemble",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        None,
        {"max_iter": 2000, "categorical_features": "from_dtype"},
    ),
}


def _import_library(name: str):
    module_name, _, _, extra, _ = _LIBRARIES[name]
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"The {name!r} baseline needs the {module_name} package; install it with "
            f'pip install "sklearn-tjepa[{extra}]"'
        ) from exc


def _library_of(estimator) -> str:
    module = type(estimator).__module__.split(".")[0]
    if module == "sklearn" and type(estimator).__name__.startswith("HistGradientBoosting"):
        return "hist_gradient_boosting"
    if module not in ("xgboost", "lightgbm", "catboost"):
        raise TypeError(
            "estimator must be an XGBoost, LightGBM, CatBoost or HistGradientBoosting model, got "
            f"estimator={estimator!r}"
        )
    return module


def _fit_booster(library, model, X, y, X_val, y_val, *, rounds, cat_columns):
    """Fit ``model`` on ``(X, y)``, early-stopped on ``(X_val, y_val)`` when they are given."""
    early = X_val is not None
    if library == "xgboost":
        model.set_params(early_stopping_rounds=rounds if early else None)
        model.fit(X, y, eval_set=[(X_val, y_val)] if early else None, verbose=False)
    elif library == "lightgbm":
        if early:
            lightgbm = _import_library("lightgbm")
            # LightGBM 4.7 replaced eval_set by eval_X / eval_y.
            if "eval_X" in inspect.signature(model.fit).parameters:
                evaluation = {"eval_X": (X_val,), "eval_y": (y_val,)}
            else:
                evaluation = {"eval_set": [(X_val, y_val)]}
            stop = lightgbm.early_stopping(rounds, verbose=False)
            model.fit(X, y, callbacks=[stop], **evaluation)
        else:
            model.fit(X, y)
    elif library == "catboost":
        model.set_params(cat_features=cat_columns)
        if early:
            model.fit(
                X, y, eval_set=(X_val, y_val), early_stopping_rounds=rounds, use_best_model=True
            )
        else:
            model.fit(X, y)
    else:
        model.set_params(early_stopping=early)
        if early:
            model.set_params(n_iter_no_change=rounds)
        model.fit(X, y, X_val=X_val, y_val=y_val)
    return model


class _GBDTBase(BaseEstimator):
    """Shared fit logic of :class:`GBDTClassifier` and :class:`GBDTRegressor`."""

    # The HTML repr's documentation link goes to this package's API reference.
    _doc_link_module = DOC_LINK_MODULE
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    def __init__(
        self,
        *,
        estimator,
        categorical_features="auto",
        validation_fraction=0.1,
        early_stopping_rounds=50,
        random_state=None,
    ):
        self.estimator = estimator
        self.categorical_features = categorical_features
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state

    def _frame(self, X) -> pd.DataFrame:
        """The table as the booster reads it: float32 numbers and native categorical columns."""
        table = self.preprocessor_.transform(X)
        prep = self.preprocessor_
        columns = {}
        for out, j in enumerate(prep.numerical_positions_):
            columns[j] = table.x_num[:, out]
        for out, (j, categories) in enumerate(zip(prep.categorical_positions_, prep.categories_)):
            codes = table.x_cat[:, out]
            if self.library_ == "catboost":
                columns[j] = codes
            else:
                # Code 0 (missing or unseen) becomes -1, pandas' missing category.
                columns[j] = pd.Categorical.from_codes(
                    codes - 1, categories=np.arange(len(categories))
                )
        return pd.DataFrame({f"f{j}": columns[j] for j in sorted(columns)})

    def fit(self, X, y, X_val=None, y_val=None):
        """Encode the table and fit the booster, early-stopped on validation rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training table; categorical columns as in
            :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`, NaN for missing values.
        y : array-like of shape (n_samples,)
            Target.
        X_val : array-like or DataFrame of shape (n_val, n_features), default=None
            Validation table for early stopping, encoded with the preprocessing fitted on ``X``.
            When given (with ``y_val``), ``validation_fraction`` is ignored and every row of ``X``
            is trained on. Inside a :class:`~sklearn.pipeline.Pipeline` route it with
            ``set_fit_request(X_val=True, y_val=True)`` and ``Pipeline(...,
            transform_input=["X_val"])`` (metadata routing must be enabled).
        y_val : array-like of shape (n_val,), default=None
            Target of ``X_val``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        library = _library_of(self.estimator)
        check_fraction("validation_fraction", self.validation_fraction, allow_none=True)
        check_int("early_stopping_rounds", self.early_stopping_rounds)
        check_seed("random_state", self.random_state)
        check_validation_pair(X_val, y_val)
        X = validate_table(self, X, reset=True)
        y = self._encode_target(X, y)
        self.library_ = library
        self.preprocessor_ = TablePreprocessor(
            categorical_features=self.categorical_features, numerical_scaling="none"
        ).fit(X)
        frame = self._frame(X)
        fit = {
            "rounds": self.early_stopping_rounds,
            "cat_columns": [f"f{j}" for j in self.preprocessor_.categorical_positions_],
        }
        model = clone(self.estimator)
        if X_val is not None:
            X_val = validate_table(self, X_val, reset=False)
            y_val = self._encode_valid_target(X_val, y_val)
            self.estimator_ = _fit_booster(
                self.library_, model, frame, y, self._frame(X_val), y_val, **fit
            )
            return self
        if self.validation_fraction is None:
            self.estimator_ = _fit_booster(self.library_, model, frame, y, None, None, **fit)
            return self
        train, val = train_test_split(
            np.arange(len(y)),
            test_size=self.validation_fraction,
            stratify=y if is_classifier(self) else None,
            random_state=check_random_state(self.random_state).randint(np.iinfo(np.int32).max),
        )
        self.estimator_ = _fit_booster(
            self.library_,
            model,
            frame.iloc[train],
            y[train],
            frame.iloc[val],
            y[val],
            **fit,
        )
        return self

    def _booster_input(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        return self._frame(validate_table(self, X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags


class GBDTClassifier(ProbabilisticClassifierMixin, _GBDTBase):
    """Gradient-boosted tree classifier with native categorical handling and early stopping.

    Usually built with :func:`make_gbdt`.

    Parameters
    ----------
    estimator : classifier
        An unfitted ``XGBClassifier``, ``LGBMClassifier``, ``CatBoostClassifier`` or
        ``HistGradientBoostingClassifier``; cloned in ``fit``. XGBoost needs
        ``enable_categorical=True`` and HistGradientBoosting ``categorical_features="from_dtype"``
        (as :func:`make_gbdt` sets).
    categorical_features : "auto", None, array-like of int, str or bool, default="auto"
        Categorical columns, as in :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`.
    validation_fraction : float in (0, 1) or None, default=0.1
        Stratified share of the training rows used for early stopping; ``None`` fits all
        rounds on all rows. Ignored when ``fit`` gets ``X_val`` and ``y_val``.
    early_stopping_rounds : int, default=50
        Rounds without improvement of the validation loss before boosting stops.
    random_state : int, RandomState instance or None, default=None
        Seed of the validation split (the booster has its own seed).

    Attributes
    ----------
    estimator_ : classifier
        The fitted booster.
    library_ : str
        One of ``GBDT_NAMES``.
    preprocessor_ : TablePreprocessor
        Encoding of the table fitted on the training rows.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (DataFrame input only).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_tjepa.baselines import make_gbdt
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_gbdt("hist_gradient_boosting", task="classification", random_state=0)
    >>> model.fit(X, y).predict(X[:3])
    array([0, 0, 0])
    """

    def _encode_target(self, X, y):
        return self._class_codes(X, y)

    def _encode_valid_target(self, X_val, y_val):
        return self._valid_class_codes(X_val, y_val)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        frame = self._booster_input(X)
        return np.asarray(self.estimator_.predict_proba(frame), dtype=np.float64)


class GBDTRegressor(RegressorMixin, _GBDTBase):
    """Gradient-boosted tree regressor with native categorical handling and early stopping.

    Usually built with :func:`make_gbdt`.

    Parameters
    ----------
    estimator : regressor
        An unfitted ``XGBRegressor``, ``LGBMRegressor``, ``CatBoostRegressor`` or
        ``HistGradientBoostingRegressor``; cloned in ``fit``.
    categorical_features : "auto", None, array-like of int, str or bool, default="auto"
        Categorical columns, as in :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`.
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of the training rows used for early stopping; ``None`` fits all rounds on all rows.
        Ignored when ``fit`` gets ``X_val`` and ``y_val``.
    early_stopping_rounds : int, default=50
        Rounds without improvement of the validation loss before boosting stops.
    random_state : int, RandomState instance or None, default=None
        Seed of the validation split (the booster has its own seed).

    Attributes
    ----------
    estimator_ : regressor
        The fitted booster.
    library_ : str
        One of ``GBDT_NAMES``.
    preprocessor_ : TablePreprocessor
        Encoding of the table fitted on the training rows.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (DataFrame input only).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_tjepa.baselines import make_gbdt
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_gbdt("hist_gradient_boosting", task="regression", random_state=0)
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    def _encode_target(self, X, y):
        return validate_target(self, X, y, numeric=True).astype(np.float64)

    def _encode_valid_target(self, X_val, y_val):
        return self._encode_target(X_val, y_val)

    def predict(self, X):
        """Predicted target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        frame = self._booster_input(X)
        return np.asarray(self.estimator_.predict(frame), dtype=np.float64).ravel()


def make_gbdt(
    name,
    *,
    task,
    random_state=None,
    categorical_features="auto",
    validation_fraction=0.1,
    early_stopping_rounds=50,
    **params,
):
    """Build a gradient-boosted tree model with native categorical handling and early stopping.

    Parameters
    ----------
    name : {"xgboost", "lightgbm", "catboost", "hist_gradient_boosting"}
        Library. The first three are optional extras of sklearn-tjepa.
    task : {"classification", "regression"}
        Picks the classifier or the regressor.
    random_state : int or None, default=None
        Seed of the booster and of the validation split.
    categorical_features : "auto", None, array-like of int, str or bool, default="auto"
        Categorical columns, as in :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`.
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of the training rows held out for early stopping (stratified for classification).
    early_stopping_rounds : int, default=50
        Rounds without improvement of the validation loss before boosting stops.
    **params
        Parameters of the library's estimator (for example ``learning_rate``, ``max_depth``);
        they override the defaults: 2000 rounds (``n_estimators``, ``iterations`` or
        ``max_iter``), quiet output, and native categorical support.

    Returns
    -------
    model : GBDTClassifier or GBDTRegressor

    Raises
    ------
    ImportError
        If the library is not installed; the message names the extra to install.

    Examples
    --------
    >>> from sklearn_tjepa.baselines import make_gbdt
    >>> model = make_gbdt("hist_gradient_boosting", task="regression", learning_rate=0.05)
    >>> type(model).__name__, type(model.estimator).__name__
    ('GBDTRegressor', 'HistGradientBoostingRegressor')
    """
    check_option("name", name, GBDT_NAMES)
    check_option("task", task, TASKS)
    module = _import_library(name)
    _, classifier, regressor, _, defaults = _LIBRARIES[name]
    cls = getattr(module, classifier if task == "classification" else regressor)
    seed_name = "random_seed" if name == "catboost" else "random_state"
    estimator = cls(**{**defaults, seed_name: random_state, **params})
    wrapper = GBDTClassifier if task == "classification" else GBDTRegressor
    return wrapper(
        estimator=estimator,
        categorical_features=categorical_features,
        validation_fraction=validation_fraction,
        early_stopping_rounds=early_stopping_rounds,
        random_state=random_state,
    )
