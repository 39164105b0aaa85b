"""The gradient-boosted tree factory: native categorical columns, early stopping, extras."""

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_tjepa.baselines import GBDT_NAMES, GBDTClassifier, GBDTRegressor, make_gbdt

LIBRARY = {
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "hist_gradient_boosting": "sklearn",
}
ONE_THREAD = {
    "xgboost": dict(n_jobs=1),
    "lightgbm": dict(n_jobs=1),
    "catboost": dict(thread_count=1),
    "hist_gradient_boosting": {},
}
# Rounds actually kept by the fitted booster.
ROUNDS = {
    "xgboost": lambda m: m.get_booster().num_boosted_rounds(),
    "lightgbm": lambda m: m.best_iteration_,
    "catboost": lambda m: m.tree_count_,
    "hist_gradient_boosting": lambda m: m.n_iter_,
}
# Whether the booster saw each column as categorical.
CATEGORICAL = {
    "xgboost": lambda m: [t == "c" for t in m.get_booster().feature_types],
    # LightGBM lists the category values of categorical features only.
    "lightgbm": lambda m: [
        bool(info["values"]) for info in m.booster_.dump_model()["feature_infos"].values()
    ],
    "catboost": lambda m: [i in m.get_cat_feature_indices() for i in range(3)],
    "hist_gradient_boosting": lambda m: list(m.is_categorical_),
}


def _gbdt(name, task, **params):
    pytest.importorskip(LIBRARY[name])
    return make_gbdt(name, task=task, random_state=0, **ONE_THREAD[name], **params)


@pytest.fixture(scope="module")
def table():
    """400 rows: two numerical columns (one with NaN) and a string column; a learnable target."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    colour = rng.choice(["red", "green", "blue"], 400)
    y = (x[:, 0] + 2 * (colour == "red") + 0.3 * rng.normal(size=400) > 0.8).astype(int)
    x[rng.random(400) < 0.2, 1] = np.nan
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "colour": colour}), y


@pytest.mark.parametrize("name", GBDT_NAMES)
def test_categorical_columns_are_native_and_boosting_stops_early(name, table):
    X, y = table
    model = _gbdt(name, "classification", learning_rate=0.3).fit(X, y)
    assert model.library_ == name
    assert CATEGORICAL[name](model.estimator_) == [False, False, True]
    assert 0 < ROUNDS[name](model.estimator_) < 2000
    assert model.score(X, y) > 0.85


@pytest.mark.parametrize("name", GBDT_NAMES)
def test_unseen_category_and_missing_values_at_predict(name, table):
    X, y = table
    model = _gbdt(name, "regression", learning_rate=0.3).fit(X, y.astype(float))
    X_new = X.head(3).copy()
    X_new["colour"] = ["purple", None, "red"]
    X_new["a"] = np.nan
    prediction = model.predict(X_new)
    assert prediction.shape == (3,) and np.all(np.isfinite(prediction))


def test_factory_picks_the_task_and_passes_params():
    model = make_gbdt("hist_gradient_boosting", task="classification", random_state=4, max_depth=3)
    assert isinstance(model, GBDTClassifier)
    assert model.estimator.get_params()["max_depth"] == 3
    assert model.estimator.random_state == 4 and model.random_state == 4
    assert isinstance(make_gbdt("hist_gradient_boosting", task="regression"), GBDTRegressor)


def test_without_validation_fraction_all_rounds_are_fit(table):
    X, y = table
    model = make_gbdt(
        "hist_gradient_boosting", task="classification", validation_fraction=None, max_iter=15
    ).fit(X, y)
    assert model.estimator_.n_iter_ == 15


def test_numpy_input_and_string_labels(table):
    X, y = table
    labels = np.array(["no", "yes"])[y]
    model = make_gbdt("hist_gradient_boosting", task="classification", random_state=0)
    model.fit(X[["a", "b"]].to_numpy(), labels)
    assert set(model.predict(X[["a", "b"]].to_numpy())) <= {"no", "yes"}
    assert list(model.classes_) == ["no", "yes"]


@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "catboost"])
def test_missing_library_names_the_extra(name, monkeypatch):
    monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError
    with pytest.raises(ImportError, match=rf'pip install "sklearn-tjepa\[{name}\]"'):
        make_gbdt(name, task="classification")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(name="randomforest", task="classification"), r"name must be one of"),
        (dict(name="xgboost", task="ranking"), r"task must be one of"),
    ],
)
def test_invalid_factory_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_gbdt(kwargs.pop("name"), **kwargs)


def test_invalid_wrapper_parameters(table):
    X, y = table
    with pytest.raises(TypeError, match="estimator must be an XGBoost, LightGBM, CatBoost"):
        GBDTClassifier(estimator=LogisticRegression()).fit(X, y)
    model = make_gbdt("hist_gradient_boosting", task="classification", early_stopping_rounds=0)
    with pytest.raises(ValueError, match=r"early_stopping_rounds must be a positive int"):
        model.fit(X, y)
