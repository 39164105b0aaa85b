"""Callbacks of :class:`~sklearn_tjepa.TJEPATransformer`: hooks that receive the estimator.

As in skorch, a callback derives from :class:`Callback` and overrides the hooks it needs; every
hook gets the estimator, and its other arguments by keyword. During ``fit`` the estimator's
``encoder_`` is the target encoder being trained, so ``est.transform(X)`` embeds rows with the
current encoder.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator

from sklearn_tjepa._checks import check_int
from sklearn_tjepa.probes import linear_probe

__all__ = ["Callback", "LinearProbe"]


class Callback:
    """Base class of the callbacks: every hook does nothing until a subclass overrides it.

    Hooks are called by ``fit`` in this order: :meth:`on_train_begin` once, :meth:`on_epoch_end`
    after every epoch, :meth:`on_train_end` once the fitted attributes are set. Each gets the
    estimator as its first argument and everything else by keyword; an override should accept
    ``**kwargs`` as well, so that an argument added to a hook later does not break it.

    As in skorch and scikit-learn, a callback is described by its constructor's arguments, each
    stored under its own name: :meth:`get_params` returns them and :meth:`set_params` changes
    them. :func:`sklearn.base.clone` of an estimator (``GridSearchCV``, ``cross_validate``) gives
    the clone new callbacks built from the same arguments, without what a callback kept from a
    fit. Unlike scikit-learn's clone of a parameter (a deep copy, which skorch's callbacks get),
    the arguments are passed as they are, not copied: a :class:`LinearProbe`'s rows are shared by
    every clone, never duplicated. A callback must therefore not modify its arguments.
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Names of the constructor's arguments (``*args`` and ``**kwargs`` left out), sorted."""
        if cls.__init__ is object.__init__:
            return []
        parameters = inspect.signature(cls.__init__).parameters.values()
        skipped = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        return sorted(p.name for p in parameters if p.name != "self" and p.kind not in skipped)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments, as scikit-learn's ``BaseEstimator.get_params``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of arguments that are estimators, as ``name__param``.

        Returns
        -------
        dict of str to object
        """
        return BaseEstimator.get_params(self, deep=deep)

    def set_params(self, **params) -> "Callback":
        """Set constructor arguments, as scikit-learn's ``BaseEstimator.set_params``.

        Parameters
        ----------
        **params
            New values by argument name; ``name__param`` sets a parameter of an argument that
            is an estimator.

        Returns
        -------
        self : Callback
        """
        return BaseEstimator.set_params(self, **params)

    def __sklearn_clone__(self) -> "Callback":
        # A new callback from the same arguments, shared rather than deep-copied (see above).
        return type(self)(**self.get_params(deep=False))

    def on_train_begin(self, est, **kwargs) -> None:
        """Called once the preprocessing is fitted and before the first epoch.

        Parameters
        ----------
        est : TJEPATransformer
            The estimator being fitted; ``preprocessor_`` and ``model_spec_`` are set.
        **kwargs
            Arguments a later version may add; ignore them.
        """

    def on_epoch_end(self, est, record: dict, **kwargs) -> bool | None:
        """Called after every epoch; return a truthy value to stop training.

        Parameters
        ----------
        est : TJEPATransformer
            The estimator being fitted; ``est.encoder_`` is the current target encoder (eval mode,
            on the training device) and ``est.transform`` embeds with it.
        record : dict
            The epoch's row of ``history_``; entries added here are kept.
        **kwargs
            Arguments a later version may add; ignore them.
        """

    def on_train_end(self, est, **kwargs) -> None:
        """Called at the end of a successful ``fit``, once the fitted attributes are set.

        Parameters
        ----------
        est : TJEPATransformer
            The fitted estimator.
        **kwargs
            Arguments a later version may add; ignore them.
        """


class LinearProbe(Callback):
    """Score a linear probe on the current embeddings every ``every`` epochs.

    The probe (standardisation then logistic regression, or ridge regression for a continuous
    target) is fitted on the embeddings of ``X_train`` and scored on those of ``X_valid``; the
    score (accuracy or R^2) goes into ``history_`` as ``probe_score``. Use a validation split
    here, never the test set.

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
        self.X_train = X_train
        self.y_train = y_train
        self.X_valid = X_valid
        self.y_valid = y_valid
        self.every = every
        self.regression = regression
        self.max_iter = max_iter

    def on_train_begin(self, est, **kwargs) -> None:
        """Check ``every`` before the first epoch."""
        check_int("every", self.every)

    def score(self, est) -> float:
        """Fit the probe on ``est``'s embeddings of ``X_train`` and score it on ``X_valid``.

        Parameters
        ----------
        est : TJEPATransformer
            A fitted estimator, or one being fitted (then its current encoder is used).

        Returns
        -------
        float
            Accuracy, or R^2 with ``regression=True``.
        """
        probe = linear_probe(regression=self.regression, max_iter=self.max_iter)
        probe.fit(est.transform(self.X_train), np.asarray(self.y_train))
        return float(probe.score(est.transform(self.X_valid), np.asarray(self.y_valid)))

    def on_epoch_end(self, est, record: dict, **kwargs) -> None:
        """Add ``probe_score`` to the record every ``every`` epochs."""
        if record["epoch"] % self.every == 0:
            record["probe_score"] = self.score(est)
