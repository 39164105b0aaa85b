"""Targets with unlabelled rows, marked the ``sklearn.semi_supervised`` way.

A classifier's unlabelled rows have ``y == -1``; a regressor's have ``y`` NaN. Each task finds the
labelled rows, encodes their targets as the baselines' tasks do
(:class:`~sklearn_tjepa.baselines.skorch_base._ClassifierTask`,
:class:`~sklearn_tjepa.baselines.skorch_base._RegressorTask`, whose loss, skorch net and
prediction methods are inherited), encodes a validation target with the state fitted on the
training target, and turns encoded targets back into the label column of target-aware
pretraining.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklearn_tjepa.baselines.skorch_base import _ClassifierTask, _RegressorTask
from sklearn_tjepa.validation import validate_target

__all__ = ["UNLABELLED_CLASS", "SemiSupervisedClassifierTask", "SemiSupervisedRegressorTask"]

#: The class label that marks an unlabelled row for the classifier, as in sklearn.semi_supervised.
UNLABELLED_CLASS = -1


def _require_labelled_validation_rows(labelled: np.ndarray) -> None:
    """Raise ``ValueError`` when no row of a validation target is labelled."""
    if not labelled.any():
        raise ValueError("y_val has no labelled row: every row is marked unlabelled.")


def _unlabelled_classes(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``y`` labelled ``-1`` (never true for an array of strings)."""
    if y.dtype.kind in "US":
        return np.zeros(y.shape, dtype=bool)
    return np.asarray(y == UNLABELLED_CLASS, dtype=bool)


class SemiSupervisedClassifierTask(_ClassifierTask):
    """Classification on the rows whose label is not ``-1``.

    Attributes set in ``fit``: ``classes_`` (the labels of the labelled rows, ``-1`` excluded).
    """

    def _labelled_target(self, X, y) -> tuple[np.ndarray, np.ndarray, int]:
        """Return the labelled rows' mask, their class codes and the number of classes.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels; ``-1`` marks an unlabelled row.

        Returns
        -------
        labelled : ndarray of bool of shape (n_samples,)
        codes : ndarray of int64 of shape (n_labelled,)
        n_classes : int
        """
        y = validate_target(self, X, y, numeric=False)
        labelled = ~_unlabelled_classes(y)
        if not labelled.any():
            raise ValueError(
                f"{type(self).__name__} needs labelled rows, but every row of y is "
                f"{UNLABELLED_CLASS}, the mark of an unlabelled row."
            )
        codes, n_classes = self._encode_target(X.iloc[np.flatnonzero(labelled)], y[labelled])
        if n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs labelled rows of at least 2 classes, but they "
                f"hold 1 class: {self.classes_.tolist()} (rows labelled {UNLABELLED_CLASS} are "
                "unlabelled)."
            )
        return labelled, codes, n_classes

    def _validation_target(self, X_val, y_val) -> tuple[np.ndarray, np.ndarray]:
        """Return the labelled validation rows' mask and their codes in ``classes_``.

        Raises ``ValueError`` when ``y_val`` holds a label that is not in ``classes_``.
        """
        y_val = validate_target(self, X_val, y_val, numeric=False)
        labelled = ~_unlabelled_classes(y_val)
        _require_labelled_validation_rows(labelled)
        rows = np.flatnonzero(labelled)
        return labelled, self._valid_class_codes(X_val.iloc[rows], y_val[rows])

    def _label_column(self, n_rows: int, rows=None, codes=None) -> pd.Categorical:
        """The labels as a categorical column of ``n_rows`` rows over the categories ``classes_``.

        Parameters
        ----------
        n_rows : int
        rows : ndarray of int of shape (n_shown,), default=None
            Positions of the rows that show their label; None shows none.
        codes : ndarray of int64 of shape (n_shown,), default=None
            Their class codes (positions in ``classes_``).

        Returns
        -------
        column : pandas.Categorical of shape (n_rows,)
            The class of each shown row, missing (NaN) elsewhere.
        """
        full = np.full(n_rows, -1, dtype=np.int64)
        if rows is not None:
            full[rows] = codes
        return pd.Categorical.from_codes(full, categories=self.classes_)


class SemiSupervisedRegressorTask(_RegressorTask):
    """Regression on the rows whose target is not NaN.

    Attributes set in ``fit``: ``y_mean_`` and ``y_scale_`` (mean and standard deviation of the
    labelled rows' target).
    """

    def _labelled_target(self, X, y) -> tuple[np.ndarray, np.ndarray, int]:
        """Return the labelled rows' mask, their standardized target and the output width 1.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Target; NaN marks an unlabelled row (infinity is an error).

        Returns
        -------
        labelled : ndarray of bool of shape (n_samples,)
        target : ndarray of float32 of shape (n_labelled, 1)
        d_out : int
        """
        y = validate_target(self, X, y, numeric=True, allow_nan=True)
        labelled = ~np.isnan(y)
        if not labelled.any():
            raise ValueError(
                f"{type(self).__name__} needs labelled rows, but every row of y is NaN, the mark "
                "of an unlabelled row."
            )
        target, d_out = self._encode_target(X.iloc[np.flatnonzero(labelled)], y[labelled])
        return labelled, target, d_out

    def _validation_target(self, X_val, y_val) -> tuple[np.ndarray, np.ndarray]:
        """Return the labelled validation rows' mask and their target, standardized as in fit."""
        y_val = validate_target(self, X_val, y_val, numeric=True, allow_nan=True)
        labelled = ~np.isnan(y_val)
        _require_labelled_validation_rows(labelled)
        return labelled, self._standardize(y_val[labelled])

    def _label_column(self, n_rows: int, rows=None, target=None) -> np.ndarray:
        """The target as a float column of ``n_rows`` rows, in the units of ``y``.

        Parameters
        ----------
        n_rows : int
        rows : ndarray of int of shape (n_shown,), default=None
            Positions of the rows that show their target; None shows none.
        target : ndarray of float32 of shape (n_shown, 1), default=None
            Their standardized target, as :meth:`_labelled_target` returns it.

        Returns
        -------
        column : ndarray of float64 of shape (n_rows,)
            The target of each shown row, NaN elsewhere.
        """
        full = np.full(n_rows, np.nan)
        if rows is not None:
            full[rows] = target[:, 0].astype(np.float64) * self.y_scale_ + self.y_mean_
        return full
