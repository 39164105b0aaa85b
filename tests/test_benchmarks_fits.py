"""How a fit ended: epochs or rounds run, the cap, and whether the cap or early stopping
ended it."""

import numpy as np
import pytest

from sklearn_tjepa.baselines import make_baseline
from sklearn_tjepa.bench.fits import fit_extent
from sklearn_tjepa.bench.models import LinearBaseline

_ROUNDS = {"xgboost": "n_estimators", "lightgbm": "n_estimators", "catboost": "iterations",
           "hist_gradient_boosting": "max_iter"}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X, X_val = rng.normal(size=(200, 3)), rng.normal(size=(100, 3))
    noise = 0.5
    return (X, X[:, 0] + noise * rng.normal(size=200), X_val,
            X_val[:, 0] + noise * rng.normal(size=100))


@pytest.mark.parametrize("name", sorted(_ROUNDS))
def test_boosting_rounds_against_the_cap(name, data):
    pytest.importorskip(name if name != "hist_gradient_boosting" else "sklearn")
    X, y, X_val, y_val = data
    capped = make_baseline(name, task="regression", random_state=0, early_stopping_rounds=3,
                           **{_ROUNDS[name]: 4}).fit(X, y, X_val=X_val, y_val=y_val)
    extent = fit_extent(capped)
    assert (extent["unit"], extent["run"], extent["cap"], extent["ended_by"]) == (
        "rounds", 4, 4, "cap")
    free = make_baseline(name, task="regression", random_state=0, early_stopping_rounds=3,
                         learning_rate=0.5, **{_ROUNDS[name]: 1000}).fit(
        X, y, X_val=X_val, y_val=y_val)
    extent = fit_extent(free)
    assert extent["ended_by"] == "early stopping" and extent["run"] < 1000
    assert 1 <= extent["best"] <= extent["run"]


def test_deep_epochs_against_the_cap(data):
    X, y, X_val, y_val = data
    model = make_baseline("mlp", task="regression", random_state=0, n_blocks=1, d_block=8,
                          max_epochs=2, patience=5, device="cpu")
    extent = fit_extent(model.fit(X, y, X_val=X_val, y_val=y_val))
    assert extent == {"unit": "epochs", "run": 2, "cap": 2, "best": extent["best"],
                      "ended_by": "cap"}
    assert extent["best"] in (1, 2)
    model.set_params(max_epochs=50, patience=1, lr=0.5)
    extent = fit_extent(model.fit(X, y, X_val=X_val, y_val=y_val))
    assert extent["ended_by"] == "early stopping" and extent["run"] < 50


def test_linear_models(data):
    X, y, X_val, y_val = data
    ridge = LinearBaseline(task="regression").fit(X, y, X_val, y_val)
    assert fit_extent(ridge) is None
    labels, labels_val = (y > 0).astype(int), (y_val > 0).astype(int)
    logistic = LinearBaseline(task="classification").fit(X, labels, X_val, labels_val)
    extent = fit_extent(logistic)
    assert extent["unit"] == "solver iterations" and extent["ended_by"] == "converged"


def test_other_objects_are_refused():
    with pytest.raises(TypeError, match="fitted grid model"):
        fit_extent(object())
