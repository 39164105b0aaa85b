"""What the baseline classifiers share: class labels to codes in fit, the argmax in predict."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

from sklearn_tjepa.validation import validate_target

__all__ = ["ProbabilisticClassifierMixin"]


class ProbabilisticClassifierMixin(ClassifierMixin):
    """``classes_`` and label codes in ``fit``; ``predict`` from ``predict_proba``."""

    def _class_codes(self, X, y) -> np.ndarray:
        """Validate ``y``, set ``classes_`` and return the labels as int64 codes ``0..K-1``."""
        y = validate_target(self, X, y, numeric=False)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        return encoder.transform(y).astype(np.int64)

    def _valid_class_codes(self, X_val, y_val) -> np.ndarray:
        """``y_val`` as codes of the ``classes_`` set by :meth:`_class_codes`."""
        y_val = validate_target(self, X_val, y_val, numeric=False)
        unknown = np.setdiff1d(y_val, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y_val has labels that are not in the training target y: {unknown.tolist()}; "
                f"training classes are {self.classes_.tolist()}"
            )
        return np.searchsorted(self.classes_, y_val).astype(np.int64)

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ exists
        return self.classes_[proba.argmax(axis=1)]
