"""The linear probe: a linear model on a representation, to measure what it makes linearly readable.

One definition for the whole package and its benchmark scripts: the
:class:`~sklearn_tjepa.callbacks.LinearProbe` callback, the benchmarks' probes of embeddings and
raw features, and the ``linear`` baseline of the benchmark grid all build it with
:func:`linear_probe`.
"""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["linear_probe"]


def linear_probe(*, regression: bool = False, C: float = 1.0, max_iter: int = 2000, preprocessing=None) -> Pipeline:
    """An unfitted linear probe: standardisation, then logistic or ridge regression.

    Parameters
    ----------
    regression : bool, default=False
        Ridge regression (``alpha = 1 / C``; ``score`` is R^2) instead of logistic regression
        (``score`` is the accuracy).
    C : float, default=1.0
        Inverse regularisation strength of the head.
    max_iter : int, default=2000
        Iterations of the logistic regression's solver.
    preprocessing : transformer or None, default=None
        Replaces the :class:`~sklearn.preprocessing.StandardScaler` in front of the head, e.g. a
        column transformer that one-hot encodes and standardises raw columns.

    Returns
    -------
    Pipeline
        ``make_pipeline(preprocessing or StandardScaler(), head)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_tjepa.probes import linear_probe
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> float(linear_probe().fit(X, y).score(X, y)) > 0.9
    True
    """
    head = Ridge(alpha=1.0 / C) if regression else LogisticRegression(C=C, max_iter=max_iter)
    return make_pipeline(StandardScaler() if preprocessing is None else preprocessing, head)
