"""Callbacks for :class:`~sklearn_tjepa.TJEPATransformer`: named objects called after every epoch.

A callback is any object with ``on_epoch_end(record, encoder)``; it may add entries to ``record``
(the epoch's row of ``history_``) and returns a truthy value to stop training. An optional
``on_train_begin(estimator)`` is called by ``fit`` once the preprocessing is fitted.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa.inference import embed

__all__ = ["LinearProbe"]


class LinearProbe:
    """Score a linear probe on the target encoder's embeddings every ``every`` epochs.

    The probe (standardisation then logistic regression, or ridge regression for a continuous
    target) is fitted on ``X_train`` and scored on ``X_valid``; the score (accuracy or R^2) goes
    into ``history_`` as ``probe_score``. Use a validation split here, never the test set.

    Parameters
    ----------
    X_train, y_train : array-like or DataFrame, array-like
        Rows and labels the probe is fitted on.
    X_valid, y_valid : array-like or DataFrame, array-like
        Rows and labels the probe is scored on.
    every : int, default=1
        Epochs between probes.
    regression : bool, default=False
        Ridge regression (scored by R^2) instead of logistic regression (accuracy).
    max_iter : int, default=1000
        Iterations of the logistic regression.

    Examples
    --------
    >>> from sklearn_tjepa import TJEPATransformer
    >>> from sklearn_tjepa.callbacks import LinearProbe
    >>> probe = LinearProbe(X_train, y_train, X_valid, y_valid, every=5)  # doctest: +SKIP
    >>> TJEPATransformer(callbacks=[probe]).fit(X_train)  # doctest: +SKIP
    """

    def __init__(self, X_train, y_train, X_valid, y_valid, *, every=1, regression=False, max_iter=1000):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, got {every=}")
        self.X_train, self.y_train = X_train, np.asarray(y_train)
        self.X_valid, self.y_valid = X_valid, np.asarray(y_valid)
        self.every = every
        self.regression = regression
        self.max_iter = max_iter

    def on_train_begin(self, estimator) -> None:
        """Encode the probe's rows with the estimator's fitted preprocessing."""
        self._tables = [estimator.preprocessor_.transform(X) for X in (self.X_train, self.X_valid)]
        self._output = estimator.output
        self._batch_size = estimator.transform_batch_size

    def _probe(self):
        model = Ridge() if self.regression else LogisticRegression(max_iter=self.max_iter)
        return make_pipeline(StandardScaler(), model)

    def on_epoch_end(self, record: dict, encoder) -> None:
        """Fit and score the probe on this epoch's target encoder; adds ``probe_score``."""
        if record["epoch"] % self.every:
            return None
        device = next(encoder.parameters()).device
        train, valid = (
            embed(encoder, t.x_num, t.x_cat, output=self._output, batch_size=self._batch_size, device=device)
            for t in self._tables
        )
        record["probe_score"] = float(self._probe().fit(train, self.y_train).score(valid, self.y_valid))
        return None
