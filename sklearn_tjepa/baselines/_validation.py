"""Checks shared by the baseline estimators: the input table, the target and block widths.

Parameter checks common to every estimator of the package live in :mod:`sklearn_tjepa.validation`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_array
from sklearn.utils.validation import column_or_1d, validate_data

from sklearn_tjepa.validation import check_real

__all__ = [
    "check_multiplier",
    "is_dataframe",
    "validate_table",
    "validate_target",
]


def check_multiplier(name: str, value, base: int) -> None:
    """Raise unless ``value`` is a positive float with ``int(base * value) >= 1``."""
    check_real(name, value, positive=True)
    if int(base * value) < 1:
        raise ValueError(
            f"{name} times the block width must give at least 1 unit, got {name}={value!r} "
            f"for a width of {base}"
        )


def is_dataframe(X) -> bool:
    """Whether ``X`` is a pandas DataFrame or another dataframe-protocol object."""
    return isinstance(X, pd.DataFrame) or (
        hasattr(X, "__dataframe__") and not isinstance(X, np.ndarray)
    )


def validate_table(estimator, X, *, reset: bool):
    """Check ``X`` and record or compare ``n_features_in_`` and ``feature_names_in_``.

    A dataframe is returned unchanged, since its categorical columns are encoded later by
    :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`. Any other input goes through
    :func:`~sklearn.utils.validation.validate_data`, as numbers unless the estimator names
    categorical columns explicitly (then object arrays of strings are kept). NaN is allowed,
    infinity is not.

    Parameters
    ----------
    estimator : estimator
        Holds ``categorical_features``; receives ``n_features_in_`` (and ``feature_names_in_``).
    X : array-like or DataFrame of shape (n_samples, n_features)
    reset : bool
        True in ``fit``, False in prediction.

    Returns
    -------
    X : DataFrame or ndarray
    """
    if is_dataframe(X):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        return X
    spec = estimator.categorical_features
    numeric_only = spec is None or (isinstance(spec, str) and spec == "auto")
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype="numeric" if numeric_only else None,
        ensure_all_finite="allow-nan",
    )


def validate_target(estimator, X, y, *, numeric: bool) -> np.ndarray:
    """Check ``y``: present, one-dimensional, finite and as long as ``X``.

    Parameters
    ----------
    estimator : estimator
        Named in the error message when ``y`` is missing.
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    numeric : bool
        Convert ``y`` to numbers (regression) or keep its dtype (class labels).

    Returns
    -------
    y : ndarray of shape (n_samples,)
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    y = column_or_1d(y, warn=True)
    y = check_array(y, ensure_2d=False, dtype="numeric" if numeric else None, input_name="y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{[X.shape[0], y.shape[0]]}"
        )
    return y
