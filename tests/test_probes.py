"""Tests for sklearn_tjepa.probes: the one linear probe of the package and its benchmarks."""

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklearn_tjepa
from sklearn_tjepa.probes import linear_probe

REPOSITORY = Path(sklearn_tjepa.__file__).parent.parent


def test_linear_probe_standardises_then_fits_a_logistic_or_ridge_regression():
    classifier = linear_probe(C=0.5, max_iter=300)
    assert [type(step) for _, step in classifier.steps] == [StandardScaler, LogisticRegression]
    assert (classifier[-1].C, classifier[-1].max_iter) == (0.5, 300)
    regressor = linear_probe(regression=True, C=0.5)
    assert [type(step) for _, step in regressor.steps] == [StandardScaler, Ridge]
    assert regressor[-1].alpha == 2.0


def test_linear_probe_takes_other_preprocessing():
    scaler = MinMaxScaler()
    probe = linear_probe(preprocessing=scaler)
    assert probe[0] is scaler and len(probe.steps) == 2


def test_linear_probe_scores_accuracy_or_r2():
    X = np.random.default_rng(0).normal(size=(200, 3))
    assert linear_probe().fit(X, X[:, 0] > 0).score(X, X[:, 0] > 0) > 0.9
    assert linear_probe(regression=True).fit(X, 2 * X[:, 1]).score(X, 2 * X[:, 1]) > 0.99


@pytest.mark.parametrize("folder", ["sklearn_tjepa", "benchmarks"])
def test_no_module_builds_a_linear_head_of_its_own(folder):
    """Every linear probe of the package and of the benchmark scripts comes from linear_probe."""
    paths = sorted((REPOSITORY / folder).rglob("*.py"))
    if not paths:
        pytest.skip(f"{folder}/ is not in this checkout")
    builders = []
    for path in paths:
        if path == REPOSITORY / "sklearn_tjepa" / "probes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("LogisticRegression", "Ridge"):
                builders.append(f"{path.relative_to(REPOSITORY)}:{node.lineno}")
    assert builders == []
