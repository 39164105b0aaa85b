"""Load: a parallel hyper-parameter search over masking settings (GridSearchCV with n_jobs=2).

The large-table figures (a 200,000 x 50 fit) come from ``benchmarks/reliability_load.py``, not
from a test. Run with ``pytest -m reliability``.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from conftest import TINY_PARAMS
from sklearn_tjepa import TJEPATransformer

pytestmark = pytest.mark.reliability

#: 2 x 2 x 2 = 8 masking candidates.
MASKING_GRID = {
    "tjepatransformer__mask_max_context_share": [0.3, 0.5],
    "tjepatransformer__mask_max_target_share": [0.4, 0.6],
    "tjepatransformer__n_target_sets": [1, 2],
}


def test_grid_search_with_two_jobs_over_eight_masking_candidates():
    """Two worker processes fit the 8 candidates x 2 folds; every score is finite and equals the
    score of the same search run in this process (parallelism changes nothing)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    pipeline = make_pipeline(
        TJEPATransformer(**{**TINY_PARAMS, "max_epochs": 1, "output": "cls", "random_state": 0}),
        LogisticRegression(),
    )
    searches = [
        GridSearchCV(pipeline, MASKING_GRID, cv=2, n_jobs=n_jobs, error_score="raise").fit(X, y) for n_jobs in (2, 1)
    ]
    parallel, serial = (search.cv_results_ for search in searches)
    assert len(parallel["params"]) == 8
    assert np.isfinite(parallel["mean_test_score"]).all()
    np.testing.assert_array_equal(parallel["mean_test_score"], serial["mean_test_score"])
    assert searches[0].best_estimator_.predict(X).shape == (96,)
