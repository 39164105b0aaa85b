"""The classifiers' shared ``predict``: the most probable class under ``predict_proba``."""

from __future__ import annotations

from sklearn.base import ClassifierMixin

__all__ = ["ProbabilisticClassifierMixin"]


class ProbabilisticClassifierMixin(ClassifierMixin):
    """``predict`` from ``predict_proba`` and ``classes_``, for the baseline classifiers."""

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
