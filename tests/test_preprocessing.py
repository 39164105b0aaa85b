"""TablePreprocessor: category codes match by value, whatever dtype carries the values."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_tjepa.preprocessing import TablePreprocessor

# Dtypes that can carry each kind of value; ``None`` in a list marks the ones that allow a
# missing value.
INT_DTYPES = ["int64", "float64", "Int64", "Float64", "int64[pyarrow]", "double[pyarrow]", "object", "category"]
STRING_DTYPES = ["object", "str", pd.StringDtype("python"), "string[pyarrow]", "large_string[pyarrow]", "category"]
BOOL_DTYPES = ["bool", "boolean", "bool[pyarrow]", "object", "category"]
NO_MISSING = {"int64", "bool"}


def _codes(preprocessor, column) -> np.ndarray:
    return preprocessor.transform(pd.DataFrame({"c": column})).x_cat[:, 0]


def _fit(column) -> TablePreprocessor:
    return TablePreprocessor(categorical_features=["c"]).fit(pd.DataFrame({"c": column}))


def test_int_column_fitted_clean_encodes_the_same_values_with_a_missing_one():
    fitted = _fit(pd.Series([1, 2, 3, 1, 2]))
    with_nan = pd.Series([1, 2, 3, np.nan, 2])  # one NaN makes the column float64
    assert with_nan.dtype == np.float64
    np.testing.assert_array_equal(_codes(fitted, with_nan), [1, 2, 3, 0, 2])


def test_int_array_at_fit_and_float_array_at_transform_give_the_same_codes():
    X_int = np.array([[1, 0.5], [2, 0.1], [3, 0.7], [2, 0.2]])[:, :1].astype(np.int64)
    preprocessor = TablePreprocessor(categorical_features=[0]).fit(X_int)
    np.testing.assert_array_equal(preprocessor.transform(X_int.astype(np.float64)).x_cat[:, 0], [1, 2, 3, 2])


def test_float_column_fitted_with_missing_encodes_a_clean_int_column():
    fitted = _fit(pd.Series([1.0, np.nan, 3.0, 2.0]))
    np.testing.assert_array_equal(_codes(fitted, pd.Series([3, 2, 1, 4])), [3, 2, 1, 0])


@pytest.mark.parametrize(
    "dtypes,values",
    [
        (INT_DTYPES, [3, 1, 2, 1, -7]),
        (STRING_DTYPES, ["b", "a", "c", "a", "1"]),
        (BOOL_DTYPES, [True, False, True, True, False]),
    ],
    ids=["int", "string", "bool"],
)
def test_codes_do_not_depend_on_the_dtype_at_fit_or_transform(dtypes, values):
    expected = _codes(_fit(pd.Series(values, dtype=object)), pd.Series(values, dtype=object))
    assert sorted(set(expected.tolist())) == list(range(1, len(set(values)) + 1))
    for fit_dtype in dtypes:
        fitted = _fit(pd.Series(values, dtype=fit_dtype))
        for transform_dtype in dtypes:
            codes = _codes(fitted, pd.Series(values, dtype=transform_dtype))
            np.testing.assert_array_equal(codes, expected, err_msg=f"fit {fit_dtype}, transform {transform_dtype}")


def test_nullable_and_pyarrow_missing_values_get_code_zero():
    fitted = _fit(pd.Series([1, 2, 3]))
    for dtype in ["float64", "Int64", "Float64", "int64[pyarrow]", "object"]:
        column = pd.Series([1, None, 3], dtype=dtype)
        np.testing.assert_array_equal(_codes(fitted, column), [1, 0, 3], err_msg=str(dtype))


def test_large_integers_keep_their_identity():
    big = 2**53
    fitted = _fit(pd.Series([big, big + 1, big + 2]))
    np.testing.assert_array_equal(_codes(fitted, pd.Series([big + 2, big, big + 1])), [3, 1, 2])


def test_mixed_type_object_column_is_encoded_by_value():
    column = pd.Series([1, "1", "a", 2.5, 1.0, None], dtype=object)
    fitted = _fit(column)
    assert fitted.cardinalities_ == [5]  # 1 (== 1.0), 2.5, "1", "a" and the missing/unknown row
    codes = _codes(fitted, column)
    assert codes[0] == codes[4] != 0
    assert len(set(codes[:4].tolist())) == 4
    assert codes[5] == 0


def test_unhashable_category_names_the_column():
    frame = pd.DataFrame({"tags": pd.Series([["a"], ["b"]], dtype=object)})
    with pytest.raises(TypeError, match="'tags'.*unhashable"):
        TablePreprocessor().fit(frame)


# -- property: the codes are a function of the values only ------------------------------------

_KINDS = {
    "int": (st.integers(-5, 5), INT_DTYPES),
    "string": (st.sampled_from(["a", "b", "c", "d", "10", "1.0", ""]), STRING_DTYPES),
    "bool": (st.booleans(), BOOL_DTYPES),
}


@st.composite
def _categorical_columns(draw):
    """A list of values of one kind (with missing ones), two dtypes that can hold it, new values."""
    values_strategy, dtypes = _KINDS[draw(st.sampled_from(sorted(_KINDS)))]
    fit_values = draw(st.lists(st.one_of(values_strategy, st.none()), min_size=1, max_size=30))
    new_values = draw(st.lists(st.one_of(values_strategy, st.none()), min_size=1, max_size=30))
    usable = [d for d in dtypes if not (d in NO_MISSING and None in fit_values + new_values)]
    fit_dtype = draw(st.sampled_from(usable))
    transform_dtype = draw(st.sampled_from(usable))
    return fit_values, new_values, fit_dtype, transform_dtype


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_categorical_columns())
def test_codes_are_a_function_of_the_values_only(case):
    fit_values, new_values, fit_dtype, transform_dtype = case
    reference = _fit(pd.Series(fit_values, dtype=object))
    fitted = _fit(pd.Series(fit_values, dtype=fit_dtype))
    codes = _codes(fitted, pd.Series(new_values, dtype=transform_dtype))
    # the same values under another dtype, at fit and at transform, give the same codes
    np.testing.assert_array_equal(codes, _codes(reference, pd.Series(new_values, dtype=object)))
    seen = {v for v in fit_values if v is not None}
    for value, code in zip(new_values, codes):
        if value is None or value not in seen:
            assert code == 0, (value, code)  # missing or unseen: the unknown code, only them
        else:
            assert code != 0, (value, code)
    # equal values share a code, different values have different codes
    by_value = {}
    for value, code in zip(new_values, codes):
        if code:
            assert by_value.setdefault(value, code) == code
    assert len(set(by_value.values())) == len(by_value)
