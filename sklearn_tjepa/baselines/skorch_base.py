"""Preprocessing and skorch glue shared by the deep baselines.

:class:`_SkorchTabularBase` validates parameters and data, encodes the table with
:class:`~sklearn_tjepa.preprocessing.TablePreprocessor`, builds the torch module chosen by a
subclass and trains it with skorch under a seed derived from ``random_state``.
:class:`_ClassifierTask` and :class:`_RegressorTask` add what depends on the task: the skorch net,
the loss, the target encoding and the prediction methods.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.dataset import Dataset, ValidSplit
from skorch.helper import predefined_split
from sklearn.base import BaseEstimator, RegressorMixin, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_tjepa._checks import (
    check_fraction,
    check_instance,
    check_int,
    check_option,
    check_real,
    check_seed,
)
from sklearn_tjepa._doc_links import DOC_LINK_MODULE, DOC_LINK_TEMPLATE, doc_link_url_params
from sklearn_tjepa.baselines._predict import ProbabilisticClassifierMixin
from sklearn_tjepa.baselines.features import TokenReduction
from sklearn_tjepa.preprocessing import NUMERICAL_SCALINGS, EncodedTable, TablePreprocessor
from sklearn_tjepa.training.rng import seeded_torch
from sklearn_tjepa.validation import check_validation_pair, resolve_device, validate_table, validate_target

__all__ = ["LR_SCHEDULERS"]

LR_SCHEDULERS = ("constant", "cosine")

# Prediction runs in eval mode, each row on its own, so a larger batch only changes the speed.
_MIN_EVAL_BATCH_SIZE = 1024


class _SkorchTabularBase(BaseEstimator, metaclass=ABCMeta):
    """Shared fit and prediction logic of the skorch-wrapped tabular networks.

    Subclasses store their model parameters, check them in :meth:`_check_model_params` and build
    the torch module in :meth:`_make_module`. The common parameters are documented on the public
    estimators.
    """

    # fnmatch patterns of parameters trained without weight decay (skorch param_groups).
    _no_weight_decay: tuple[str, ...] = ()
    # Smallest batch a training step accepts (2 where BatchNorm is used).
    _min_batch_size = 1
    # The HTML repr's documentation link goes to this package's API reference.
    _doc_link_module = DOC_LINK_MODULE
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    def __init__(
        self,
        *,
        categorical_features,
        numerical_scaling,
        max_epochs,
        batch_size,
        lr,
        weight_decay,
        lr_scheduler,
        validation_fraction,
        patience,
        token_width,
        device,
        random_state,
        verbose,
    ):
        self.categorical_features = categorical_features
        self.numerical_scaling = numerical_scaling
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_scheduler = lr_scheduler
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.token_width = token_width
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @abstractmethod
    def _check_model_params(self) -> None:
        """Raise ``TypeError``/``ValueError`` for an invalid model parameter."""

    @abstractmethod
    def _make_module(
        self, *, n_num: int, missing_columns: list[int], cat_cardinalities: list[int], d_out: int
    ) -> nn.Module:
        """Build the network: ``forward(x_num, x_cat) -> (batch, d_out)``."""

    @abstractmethod
    def _encode_target(self, X, y) -> tuple[np.ndarray, int]:
        """Validate ``y``, set the fitted target state and return ``y`` as the loss takes it
        with the output width."""

    @abstractmethod
    def _encode_valid_target(self, X_val, y_val) -> np.ndarray:
        """``y_val`` in the form the loss takes, with the target state set by ``fit``."""

    def _check_input_params(self) -> None:
        """Check the parameters of the input encoding (overridden where another object owns it)."""
        check_option("numerical_scaling", self.numerical_scaling, NUMERICAL_SCALINGS)
        if self.token_width is not None:
            check_int("token_width", self.token_width)

    def _check_params(self) -> str:
        self._check_input_params()
        check_int("max_epochs", self.max_epochs)
        check_int("batch_size", self.batch_size, min_value=self._min_batch_size)
        check_real("lr", self.lr, positive=True)
        check_real("weight_decay", self.weight_decay, positive=False)
        check_option("lr_scheduler", self.lr_scheduler, LR_SCHEDULERS)
        check_fraction("validation_fraction", self.validation_fraction, allow_none=True)
        check_int("patience", self.patience)
        check_instance("verbose", self.verbose, Integral, "a bool or a non-negative int")
        if self.verbose < 0:
            raise ValueError(
                f"verbose must be a bool or a non-negative int, got verbose={self.verbose!r}"
            )
        check_seed("random_state", self.random_state)
        self._check_model_params()
        return str(resolve_device(self.device))

    def _split(self, y: np.ndarray, seed: int, valid) -> tuple:
        """Return skorch's train/validation split and the number of training rows it keeps.

        ``valid`` is the explicit validation set as ``(encoded table, encoded target)`` or None;
        it replaces the ``validation_fraction`` share of the training rows.
        """
        if valid is not None:
            table_val, y_val = valid
            split = predefined_split(Dataset(self._net_inputs(table_val), y_val))
            n_train = y.shape[0]
        elif self.validation_fraction is None:
            split, n_train = None, y.shape[0]
        else:
            split = self._fraction_split(seed)
            n_train = self._holdout(y, seed)[0].shape[0]
        if n_train < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 training rows, got n_samples={y.shape[0]} "
                f"with validation_fraction={self.validation_fraction}."
            )
        return split, n_train

    def _fraction_split(self, seed: int) -> ValidSplit:
        """skorch's split of ``validation_fraction`` of the rows (stratified for a classifier)."""
        return ValidSplit(
            cv=float(self.validation_fraction), stratified=is_classifier(self), random_state=seed
        )

    def _holdout(self, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The training and validation row positions that :meth:`_fraction_split` draws for ``y``.

        Raises ``ValueError`` when ``validation_fraction`` cannot split the rows.
        """
        try:
            return next(self._fraction_split(seed).check_cv(y).split(np.zeros(y.shape[0]), y))
        except ValueError as exc:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} cannot split "
                f"n_samples={y.shape[0]} rows into training and validation rows ({exc}); pass "
                "more rows, another validation_fraction, or validation_fraction=None to train "
                "without early stopping."
            ) from exc

    def _reduced_width(self, n_num: int, n_cat: int) -> int:
        """Number of numbers the network reads per row after the optional token reduction."""
        if self.token_width is None:
            return n_num
        if n_cat or n_num % self.token_width:
            raise ValueError(
                "token_width needs a table of numerical columns only, in consecutive tokens of "
                f"token_width columns, got token_width={self.token_width} with {n_num} numerical "
                f"and {n_cat} categorical columns"
            )
        return n_num // self.token_width

    def _callbacks(self, early_stopping: bool) -> list:
        callbacks = []
        if early_stopping:
            stopping = EarlyStopping(monitor="valid_loss", patience=self.patience, load_best=True)
            callbacks.append(("early_stopping", stopping))
        if self.lr_scheduler == "cosine":
            cosine = LRScheduler(
                policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs
            )
            callbacks.append(("lr_scheduler", cosine))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    @staticmethod
    def _net_inputs(table: EncodedTable) -> dict[str, np.ndarray]:
        return {"x_num": table.x_num, "x_cat": table.x_cat}

    def fit(self, X, y, X_val=None, y_val=None):
        """Fit the preprocessing and train the network, early-stopped on validation rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training table. DataFrame columns of dtype category, string, object or bool are
            categorical (unless ``categorical_features`` says otherwise); NaN marks a missing value.
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
        device = self._check_params()
        check_validation_pair(X_val, y_val)
        seeds = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=4)
        seed_torch, seed_split, seed_loader, seed_data = (int(s) for s in seeds)
        table, y_fit, d_out, valid = self._fit_data(X, y, X_val, y_val, seed_data)
        split, n_train = self._split(y_fit if y_fit.ndim == 1 else y_fit[:, 0], seed_split, valid)
        with seeded_torch(seed_torch, device):
            module, param_groups = self._build_network(table, d_out)
            self.net_ = self._net_class(
                module=module,
                criterion=self._criterion,
                optimizer=torch.optim.AdamW,
                lr=self.lr,
                optimizer__weight_decay=self.weight_decay,
                optimizer__param_groups=param_groups,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                iterator_train__shuffle=True,
                iterator_train__generator=torch.Generator().manual_seed(seed_loader),
                # A last batch of one row would break BatchNorm; drop it only then.
                iterator_train__drop_last=n_train % self.batch_size == 1,
                iterator_valid__batch_size=max(self.batch_size, _MIN_EVAL_BATCH_SIZE),
                train_split=split,
                callbacks=self._callbacks(early_stopping=split is not None),
                device=device,
                verbose=int(bool(self.verbose)),
            )
            self.net_.fit(self._net_inputs(table), y_fit)
        if valid is not None:
            # Keep no reference to the validation rows in the fitted (pickled) net.
            self.net_.set_params(train_split=None)
        self._record_history()
        return self

    def _record_history(self) -> None:
        """Set ``history_`` (skorch's per-epoch records without the per-batch ones), ``n_iter_``
        and ``best_epoch_``."""
        self.history_ = [
            {key: value for key, value in row.items() if key != "batches"}
            for row in self.net_.history
        ]
        self.n_iter_ = len(self.history_)
        stopping = dict(self.net_.callbacks_).get("early_stopping")
        self.best_epoch_ = None if stopping is None else int(stopping.best_epoch_)

    def _fit_data(self, X, y, X_val, y_val, seed: int) -> tuple:
        """Validate and encode the training and validation data; fit the preprocessing.

        Parameters
        ----------
        X, y, X_val, y_val
            As passed to :meth:`fit` (``X_val`` and ``y_val`` both given or both None).
        seed : int
            Seed of whatever the data encoding draws (here the quantile scaler's subsample).

        Returns
        -------
        table : EncodedTable
            The training rows the network is trained on.
        y_fit : ndarray
            Their target as the loss takes it.
        d_out : int
            Output width of the network.
        valid : tuple of (EncodedTable, ndarray) or None
            The explicit validation rows and their encoded target.
        """
        X = validate_table(self, X, reset=True)
        y_fit, d_out = self._encode_target(X, y)
        self.preprocessor_ = TablePreprocessor(
            categorical_features=self.categorical_features,
            numerical_scaling=self.numerical_scaling,
            random_state=seed,
        ).fit(X)
        valid = None
        if X_val is not None:
            X_val = validate_table(self, X_val, reset=False)
            valid = (self.preprocessor_.transform(X_val), self._encode_valid_target(X_val, y_val))
        return self.preprocessor_.transform(X), y_fit, d_out, valid

    def _build_network(self, table: EncodedTable, d_out: int) -> tuple[nn.Module, list]:
        """The module to train and its skorch ``param_groups``; called under the fit's seed."""
        n_inputs = self._reduced_width(table.x_num.shape[1], table.x_cat.shape[1])
        module = self._make_module(
            n_num=n_inputs,
            missing_columns=(
                np.flatnonzero(np.isnan(table.x_num).any(axis=0)).tolist()
                if self.token_width is None
                else []
            ),
            cat_cardinalities=list(self.preprocessor_.cardinalities_),
            d_out=d_out,
        )
        no_decay = self._no_weight_decay
        if self.token_width is not None:
            module = TokenReduction(module, n_tokens=n_inputs, token_width=self.token_width)
            no_decay = tuple(f"net.{pattern}" for pattern in no_decay)
        return module, [(pattern, {"weight_decay": 0.0}) for pattern in no_decay]

    def _encode(self, X) -> EncodedTable:
        """Validate rows to predict on and encode them with the fitted preprocessing."""
        return self.preprocessor_.transform(validate_table(self, X, reset=False))

    def _net_output(self, X, method: str) -> np.ndarray:
        """Run ``net_.<method>`` on ``X``; the caller's torch random state is left untouched."""
        check_is_fitted(self)
        inputs = self._net_inputs(self._encode(X))
        # Every DataLoader iteration draws a base seed from the global generator.
        with torch.random.fork_rng(devices=[]):
            return getattr(self.net_, method)(inputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags


class _ClassifierTask(ProbabilisticClassifierMixin):
    """Classification: cross-entropy on logits, labels encoded to ``0..n_classes-1``.

    Attributes set in ``fit``: ``classes_``.
    """

    _net_class = NeuralNetClassifier
    _criterion = nn.CrossEntropyLoss

    def _encode_target(self, X, y):
        codes = self._class_codes(X, y)
        return codes, len(self.classes_)

    def _encode_valid_target(self, X_val, y_val):
        return self._valid_class_codes(X_val, y_val)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return self._net_output(X, "predict_proba").astype(np.float64)


class _RegressorTask(RegressorMixin):
    """Regression: mean squared error on the standardized target.

    Attributes set in ``fit``: ``y_mean_`` and ``y_scale_`` (the target's training mean and
    standard deviation).
    """

    _net_class = NeuralNetRegressor
    _criterion = nn.MSELoss

    def _encode_target(self, X, y):
        y = validate_target(self, X, y, numeric=True).astype(np.float64)
        self.y_mean_ = float(y.mean())
        std = float(y.std())
        self.y_scale_ = std if std > 0 else 1.0
        return self._standardize(y), 1

    def _encode_valid_target(self, X_val, y_val):
        return self._standardize(validate_target(self, X_val, y_val, numeric=True))

    def _standardize(self, y) -> np.ndarray:
        return ((np.asarray(y, dtype=np.float64) - self.y_mean_) / self.y_scale_).astype(
            np.float32
        )[:, None]

    def predict(self, X):
        """Predicted target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        z = self._net_output(X, "predict")[:, 0].astype(np.float64)
        return z * self.y_scale_ + self.y_mean_
