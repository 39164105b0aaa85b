"""The scikit-learn contract of TJEPATransformer: estimator checks, pipelines, search, set_output,
caching and hashing. What scikit-learn implements itself (get_params, set_params, clone) is left to
its estimator checks."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import TINY_PARAMS
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_global_output_transform_pandas,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from sklearn_tjepa import TJEPATransformer


def _tiny(**overrides):
    return TJEPATransformer(**{**TINY_PARAMS, "random_state": 0, "device": "cpu", **overrides})


# All checks pass at the time of writing; list a failing one here with its reason.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


# float32 (the tiny default), bf16 autocast, and float32 output (whose dtype the tags then preserve)
@parametrize_with_checks(
    [_tiny(), _tiny(precision="bf16"), _tiny(output_dtype="float32")],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
@pytest.mark.filterwarnings("ignore:precision='bf16' on cpu, which has no native:UserWarning")
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        check_dataframe_column_names_consistency,
        check_set_output_transform,
        check_set_output_transform_pandas,
        check_global_output_transform_pandas,
        check_transformer_get_feature_names_out,
        check_transformer_get_feature_names_out_pandas,
    ],
    ids=lambda check: check.__name__,
)
# the set_output checks deliberately mix fitting on arrays and transforming DataFrames
@pytest.mark.filterwarnings("ignore:X (does not have valid|has) feature names:UserWarning")
def test_checks_not_run_by_check_estimator(check):
    check(TJEPATransformer.__name__, _tiny())


def test_constructor_only_stores_parameters():
    # invalid values are accepted by __init__ and rejected by fit (sklearn convention)
    est = TJEPATransformer(d_model=-3, output="nonsense")
    assert est.d_model == -3 and est.output == "nonsense"


def test_pipeline_with_logistic_regression(binary_problem):
    X, y = binary_problem
    pipe = Pipeline([("tjepa", _tiny(output="flatten")), ("clf", LogisticRegression(max_iter=500))])
    pipe.fit(X[:120], y[:120])
    assert pipe.named_steps["tjepa"].n_features_in_ == X.shape[1]
    predictions = pipe.predict(X[120:])
    assert predictions.shape == (40,) and set(predictions) <= {0, 1}
    score = pipe.score(X[120:], y[120:])
    # the label is a linear function of two inputs: the embeddings keep enough of it
    assert 0.7 <= score <= 1.0


def test_grid_search_parallel(binary_problem):
    X, y = binary_problem
    pipe = Pipeline([("tjepa", _tiny(max_epochs=1, output="cls")), ("clf", LogisticRegression())])
    grid = {"tjepa__mask_min_context_share": [0.1, 0.25], "tjepa__mask_max_target_share": [0.5, 0.75]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ in search.cv_results_["params"]
    best = search.best_estimator_.named_steps["tjepa"]
    assert best.mask_min_context_share == search.best_params_["tjepa__mask_min_context_share"]
    assert best.transform(X).shape == (len(X), 8)


def test_set_output_pandas(mixed_frame):
    est = _tiny(max_epochs=1, output="mean").set_output(transform="pandas")
    frame = mixed_frame.set_index(pd.RangeIndex(1000, 1000 + len(mixed_frame)))
    out = est.fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert out.shape == (len(frame), 8)
    assert out.index.equals(frame.index)
    assert all(dtype == np.float64 for dtype in out.dtypes)


def test_feature_names_out_stable(X_numeric):
    est = _tiny(max_epochs=1).fit(X_numeric)
    names = est.get_feature_names_out()
    n_out = (1 + X_numeric.shape[1]) * 8
    assert len(names) == n_out == est.transform(X_numeric[:3]).shape[1]
    assert list(names) == [f"tjepatransformer{i}" for i in range(n_out)]
    assert list(clone(est).fit(X_numeric).get_feature_names_out()) == list(names)


def test_pipeline_memory_caches_fitted_transformer(tmp_path, monkeypatch, binary_problem):
    X, y = binary_problem
    calls = []
    original_fit = TJEPATransformer.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(1)
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(TJEPATransformer, "fit", counting_fit)
    memory = joblib.Memory(tmp_path, verbose=0)

    def make_pipe():
        return Pipeline(
            [("tjepa", _tiny(max_epochs=1, output="cls")), ("clf", LogisticRegression())], memory=memory
        )

    first = make_pipe().fit(X, y)
    assert len(calls) == 1
    second = make_pipe().fit(X, y)
    assert len(calls) == 1, "the second fit should load the fitted transformer from the cache"
    np.testing.assert_array_equal(
        first.named_steps["tjepa"].transform(X), second.named_steps["tjepa"].transform(X)
    )
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # another parameter value is another cache entry
    make_pipe().set_params(tjepa__n_target_sets=2).fit(X, y)
    assert len(calls) == 2


def test_joblib_hash_stable(X_numeric):
    assert joblib.hash(_tiny()) == joblib.hash(_tiny())
    assert joblib.hash(_tiny()) != joblib.hash(_tiny(d_model=16))
    unfitted = _tiny(max_epochs=1)
    assert joblib.hash(pickle.loads(pickle.dumps(unfitted))) == joblib.hash(unfitted)
    est = clone(unfitted).fit(X_numeric)
    before = joblib.hash(est)
    est.transform(X_numeric)  # transform must not change the fitted state
    assert joblib.hash(est) == before
    # What Pipeline(memory=...) hashes is the unfitted clone, and that survives a round trip.
    # (The hash of a *fitted* transformer is only stable within a process: torch pickles each
    # tensor storage under a key made of its memory address, torch.serialization._legacy_save's
    # ``storage_key = str(storage._cdata)``, so a reloaded copy hashes differently.)
    reloaded = pickle.loads(pickle.dumps(est))
    assert joblib.hash(clone(reloaded)) == joblib.hash(clone(est)) == joblib.hash(unfitted)
