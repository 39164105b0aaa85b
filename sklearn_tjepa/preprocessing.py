"""Table -> numerical matrix + categorical codes, with the fitted state to repeat it.

This is the one preprocessing shared by :class:`~sklearn_tjepa.TJEPATransformer` and the
baselines in :mod:`sklearn_tjepa.baselines`. It knows nothing about torch: it turns a numpy array
or a pandas DataFrame into two plain numpy arrays,

- ``x_num``: float32, shape ``(n_samples, n_numerical)``, scaled, NaN where a value is missing;
- ``x_cat``: int64, shape ``(n_samples, n_categorical)``, ``0`` for missing or unseen values and
  ``1..K`` for the ``K`` categories seen in ``fit``. Categories are matched by value, whatever the
  dtype that carries them: an integer column fitted clean and the same column read back as float64
  (because of one NaN), as nullable ``Int64`` or as pyarrow-backed integers get the same codes;

and remembers where each column sits in the input so that models can keep the input column order.
"""

from __future__ import annotations

import decimal
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.preprocessing import MinMaxScaler, QuantileTransformer, StandardScaler

from sklearn_tjepa._checks import check_option

__all__ = ["EncodedTable", "TablePreprocessor", "NUMERICAL_SCALINGS", "as_frame", "check_not_empty"]

NUMERICAL_SCALINGS = ("minmax", "standard", "quantile", "none")


@dataclass(frozen=True)
class EncodedTable:
    """A table encoded for a neural model.

    Attributes
    ----------
    x_num : ndarray of float32, shape (n_samples, n_numerical)
        Scaled numerical columns; NaN marks a missing value.
    x_cat : ndarray of int64, shape (n_samples, n_categorical)
        Category codes; 0 is missing or unseen, ``1..K`` the categories seen in fit.
    """

    x_num: np.ndarray
    x_cat: np.ndarray

    def __len__(self) -> int:
        return max(self.x_num.shape[0], self.x_cat.shape[0])

    def take(self, rows: np.ndarray) -> "EncodedTable":
        """Return the rows ``rows`` (an index array or boolean mask) as a new table."""
        return EncodedTable(self.x_num[rows], self.x_cat[rows])


def as_frame(X) -> pd.DataFrame:
    """Return ``X`` as a DataFrame, keeping a DataFrame's own columns and dtypes.

    Raises ``TypeError`` for sparse input and ``ValueError`` for arrays that are not 2-D or hold
    complex numbers, and for DataFrames with duplicate column names.
    """
    if scipy.sparse.issparse(X):
        raise TypeError("Sparse input is not supported: pass a dense array or a DataFrame (e.g. X.toarray()).")
    if isinstance(X, pd.DataFrame):
        if any(pd.api.types.is_complex_dtype(dtype) for dtype in X.dtypes):
            raise ValueError("Complex data not supported: every column must be real or categorical.")
        duplicated = X.columns[X.columns.duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(f"X has duplicate column names {duplicated}: every column must have its own name.")
        return X
    if isinstance(X, pd.Series):
        raise ValueError(
            "Expected a 2-D table (array or DataFrame), got a pandas Series; "
            "use series.to_frame() for a single column."
        )
    if hasattr(X, "__dataframe__") and not isinstance(X, np.ndarray):
        return pd.api.interchange.from_dataframe(X)
    array = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if array.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array, got an array of shape {array.shape}. Reshape your data "
            "with array.reshape(-1, 1) for a single feature or array.reshape(1, -1) for a "
            "single sample."
        )
    if np.iscomplexobj(array):
        raise ValueError("Complex data not supported: every column must be real or categorical.")
    return pd.DataFrame(array, columns=range(array.shape[1]), copy=False)


def check_not_empty(frame: pd.DataFrame) -> None:
    """Raise ``ValueError`` (scikit-learn's message) for a table without rows or without columns."""
    if frame.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is required.")
    if frame.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is required.")


def _is_categorical_dtype(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def _is_time_dtype(dtype) -> bool:
    """Datetimes (tz-aware too), timedeltas and periods, numpy- or pyarrow-backed."""
    return getattr(dtype, "kind", None) in ("M", "m") or isinstance(dtype, pd.PeriodDtype)


def _column_label(frame: pd.DataFrame, position: int) -> str:
    name = frame.columns[position]
    return repr(name) if isinstance(name, str) else f"{position}"


def _category_values(frame: pd.DataFrame, position: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a column's values as Python objects, which compare by value, and its missing mask.

    Whatever dtype carries them (int64, float64, nullable ``Int64``/``Float64``/``boolean``,
    pyarrow-backed, ``category``, object or string), equal values become equal objects: ``1``,
    ``1.0`` and ``True`` are one category, ``"1"`` another.
    """
    column = frame.iloc[:, position]
    return column.to_numpy(dtype=object), column.isna().to_numpy(dtype=bool)


def _category_order(value) -> tuple:
    """Sort key of a category: numbers by value, then strings, then other values by type and repr.

    The order (hence the codes) depends on the set of values only, not on the dtype or the row
    order of the column they came from.
    """
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, type(value).__name__, repr(value))


class TablePreprocessor:
    """Fit and apply the encoding of a table into numerical values and category codes.

    Parameters
    ----------
    categorical_features : "auto", None, array-like of int, array-like of str or array-like of bool
        Which columns are categorical. ``"auto"`` takes them from the dtype (``category``, ``object``,
        string and ``bool`` columns of a DataFrame; none for a numpy array); ``None`` means none;
        otherwise column positions, column names (DataFrame input) or a boolean mask over columns.
    numerical_scaling : {"minmax", "standard", "quantile", "none"}
        Scaling of numerical columns, fitted on the rows given to ``fit`` only. ``"minmax"`` is the
        T-JEPA paper's choice; ``"quantile"`` maps each column to a normal distribution.
    random_state : int or None
        Seed of the quantile transformer's subsampling.

    Attributes
    ----------
    is_categorical_ : ndarray of bool, shape (n_features,)
        Type of each input column, in input order.
    categories_ : list of ndarray of object
        The categories of each categorical column (Python scalars as seen in ``fit``), in code
        order ``1..K``: numbers by value, then strings, then other values. ``transform`` matches
        values to them by equality, so ``1``, ``1.0`` and ``True`` are the same category and ``"1"``
        is another.
    cardinalities_ : list of int
        ``K + 1`` for each categorical column: the categories plus the missing/unknown row.
    scaler_ : estimator or None
        The fitted scikit-learn scaler of the numerical columns.
    """

    def __init__(self, *, categorical_features="auto", numerical_scaling="minmax", random_state=None):
        self.categorical_features = categorical_features
        self.numerical_scaling = numerical_scaling
        self.random_state = random_state

    @property
    def numerical_positions_(self) -> np.ndarray:
        """Input positions of the numerical columns, shape (n_numerical,)."""
        return np.flatnonzero(~self.is_categorical_)

    @property
    def categorical_positions_(self) -> np.ndarray:
        """Input positions of the categorical columns, shape (n_categorical,)."""
        return np.flatnonzero(self.is_categorical_)

    def _resolve_categorical(self, frame: pd.DataFrame) -> np.ndarray:
        n_features = frame.shape[1]
        spec = self.categorical_features
        if isinstance(spec, str) and spec == "auto":
            return np.array([_is_categorical_dtype(frame.iloc[:, j]) for j in range(n_features)], dtype=bool)
        if spec is None:
            return np.zeros(n_features, dtype=bool)
        values = np.asarray(spec)
        if values.ndim == 0 and not isinstance(spec, str):
            raise TypeError(
                "categorical_features must be 'auto', None, or an array of column indices, column "
                f"names or booleans, got categorical_features={spec!r}"
            )
        if values.ndim != 1:
            raise ValueError(f"categorical_features must be 1-D, got an array of shape {values.shape}")
        if values.dtype == bool:
            if values.shape[0] != n_features:
                raise ValueError(
                    f"categorical_features as a boolean mask must have one entry per column: "
                    f"got {values.shape[0]} entries for {n_features} columns"
                )
            return values.copy()
        mask = np.zeros(n_features, dtype=bool)
        if values.dtype.kind in "iu":
            bad = values[(values < 0) | (values >= n_features)]
            if bad.size:
                raise ValueError(
                    f"categorical_features holds column indices out of range [0, {n_features}): "
                    f"{bad.tolist()}"
                )
            mask[values] = True
            return mask
        if values.dtype.kind in "OUS":
            names = [str(c) for c in frame.columns]
            missing = [v for v in values.tolist() if v not in names]
            if missing:
                raise ValueError(
                    f"categorical_features names columns that are not in X: {missing}; "
                    f"the columns are {names}"
                )
            mask[[names.index(v) for v in values.tolist()]] = True
            return mask
        raise TypeError(
            "categorical_features must be 'auto', None, or an array of column indices, column "
            f"names or booleans, got {spec!r}"
        )

    def _numerical_block(self, frame: pd.DataFrame) -> np.ndarray:
        positions = self.numerical_positions_
        block = np.empty((frame.shape[0], positions.size), dtype=np.float64)
        for out, j in enumerate(positions):
            column = frame.iloc[:, j]
            if _is_categorical_dtype(column) and not pd.api.types.is_object_dtype(column.dtype):
                raise ValueError(
                    f"Column {_column_label(frame, j)} is treated as numerical but has dtype "
                    f"{column.dtype}; list it in categorical_features."
                )
            if _is_time_dtype(column.dtype):
                # numpy would turn them into integer ticks of their unit, and NaT into -2**63
                raise TypeError(
                    f"Column {_column_label(frame, j)} has dtype {column.dtype}, which is not a number: "
                    "convert it first (e.g. to days since a reference date, or to parts such as year and "
                    "month), or list it in categorical_features."
                )
            try:
                block[:, out] = np.asarray(column, dtype=np.float64)
            except TypeError as exc:
                raise TypeError(
                    f"Column {_column_label(frame, j)} is numerical but holds a value that is not a "
                    f"number ({exc}); list it in categorical_features or clean it."
                ) from exc
            except ValueError as exc:
                raise ValueError(
                    f"Column {_column_label(frame, j)} is numerical but holds a value that cannot be "
                    f"converted to a number ({exc}); list it in categorical_features if it is categorical."
                ) from exc
        infinite = np.isinf(block)
        if infinite.any():
            j = positions[np.flatnonzero(infinite.any(axis=0))[0]]
            raise ValueError(
                f"Input X contains infinity in column {_column_label(frame, j)}; "
                "missing values may be NaN, but not inf."
            )
        return block

    def _make_scaler(self, n_samples: int):
        scaling = self.numerical_scaling
        check_option("numerical_scaling", scaling, NUMERICAL_SCALINGS)
        if scaling == "minmax":
            return MinMaxScaler()
        if scaling == "standard":
            return StandardScaler()
        if scaling == "quantile":
            return QuantileTransformer(
                n_quantiles=max(1, min(1000, n_samples)),
                output_distribution="normal",
                random_state=self.random_state,
            )
        return None

    def fit(self, X) -> "TablePreprocessor":
        """Learn column types, categories and the numerical scaling from ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        self : TablePreprocessor
        """
        frame = as_frame(X)
        check_not_empty(frame)
        self.is_categorical_ = self._resolve_categorical(frame)
        block = self._numerical_block(frame)
        self.scaler_ = self._make_scaler(frame.shape[0])
        if self.scaler_ is not None and block.shape[1]:
            self.scaler_.fit(block)
        self.categories_ = []
        for j in self.categorical_positions_:
            values, missing = _category_values(frame, j)
            try:
                uniques = pd.unique(values[~missing])
            except TypeError as exc:
                raise TypeError(
                    f"Column {_column_label(frame, j)} is categorical but holds a value that cannot be "
                    f"a category ({exc}); categories must be hashable values such as strings or numbers."
                ) from exc
            self.categories_.append(np.array(sorted(uniques, key=_category_order), dtype=object))
        self.cardinalities_ = [len(c) + 1 for c in self.categories_]
        return self

    def transform(self, X) -> EncodedTable:
        """Encode ``X`` with the fitted state.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        EncodedTable
            ``x_num`` of shape (n_samples, n_numerical) and ``x_cat`` of shape
            (n_samples, n_categorical).
        """
        frame = as_frame(X)
        if frame.shape[1] != self.is_categorical_.size:
            raise ValueError(
                f"X has {frame.shape[1]} features, but the preprocessing was fitted with "
                f"{self.is_categorical_.size} features."
            )
        block = self._numerical_block(frame)
        if self.scaler_ is not None and block.shape[1]:
            block = self.scaler_.transform(block)
        x_cat = np.zeros((frame.shape[0], len(self.categories_)), dtype=np.int64)
        for out, (j, categories) in enumerate(zip(self.categorical_positions_, self.categories_)):
            values, missing = _category_values(frame, j)
            try:
                codes = pd.Index(categories, dtype=object).get_indexer(pd.Index(values, dtype=object))
            except TypeError as exc:
                raise TypeError(
                    f"Column {_column_label(frame, j)} is categorical but holds a value that cannot be "
                    f"a category ({exc}); categories must be hashable values such as strings or numbers."
                ) from exc
            x_cat[:, out] = np.where(missing, 0, codes + 1)
        return EncodedTable(np.ascontiguousarray(block, dtype=np.float32), x_cat)

    def fit_transform(self, X) -> EncodedTable:
        """Fit to ``X`` and return its encoding (see :meth:`transform`)."""
        return self.fit(X).transform(X)
