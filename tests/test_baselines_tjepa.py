"""The "+T-JEPA" variants: a baseline on top of T-JEPA embeddings."""

import numpy as np
import pytest

from conftest import TINY_PARAMS
from sklearn_tjepa.baselines import MLPClassifier, make_gbdt, with_tjepa

TINY_TJEPA = dict(TINY_PARAMS, max_epochs=1, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.mark.parametrize(
    "model",
    [
        MLPClassifier(n_blocks=1, d_block=16, max_epochs=3, device="cpu", random_state=0),
        make_gbdt("hist_gradient_boosting", task="classification", random_state=0, max_iter=50),
    ],
    ids=["mlp", "hist_gradient_boosting"],
)
def test_baseline_on_tjepa_embeddings(model, problem):
    X, y = problem
    pipeline = with_tjepa(model, **TINY_TJEPA)
    assert [type(step).__name__ for _, step in pipeline.steps] == ["TJEPATransformer", type(model).__name__]
    pipeline.fit(X, y)
    prediction = pipeline.predict(X)
    assert prediction.shape == (200,) and set(prediction) <= {0, 1}
    assert pipeline.steps[1][1].n_features_in_ == pipeline.steps[0][1].transform(X[:2]).shape[1]
