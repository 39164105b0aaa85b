"""Paired differences over seeds, the best cell on val, and the two-standard-error verdict."""

import numpy as np
import pandas as pd
import pytest

from sklearn_tjepa.bench.paired import best_by_val, paired_difference, verdict


def _frame(rows):
    return pd.DataFrame([{"model": m, "features": f, "fraction": r, "seed": s, "status": "ok",
                          "test": t, "val": v} for m, f, r, s, t, v in rows])


def test_difference_uses_the_seeds_both_cells_finished():
    frame = _frame([("a", "tjepa", 1.0, 0, 0.80, 0), ("a", "tjepa", 1.0, 1, 0.82, 0),
                    ("a", "tjepa", 1.0, 2, 0.90, 0),
                    ("a", "untrained", 1.0, 0, 0.70, 0), ("a", "untrained", 1.0, 1, 0.71, 0)])
    diff = paired_difference(frame, ("a", "tjepa", 1.0), ("a", "untrained", 1.0))
    assert diff["n"] == 2
    assert diff["mean"] == pytest.approx(0.105)
    assert diff["se"] == pytest.approx(np.std([0.10, 0.11], ddof=1) / np.sqrt(2))
    assert paired_difference(frame, ("a", "tjepa", 1.0), ("b", "raw", 1.0)) is None


@pytest.mark.parametrize(("mean", "se", "metric", "expected"), [
    (0.03, 0.01, "accuracy", "helps"),
    (0.02, 0.01, "accuracy", "no clear difference"),  # exactly 2 SE is not enough
    (-0.03, 0.01, "accuracy", "hurts"),
    (-0.03, 0.01, "rmse", "helps"),
    (0.03, 0.01, "rmse", "hurts"),
    (0.5, None, "rmse", "one seed"),
])
def test_verdict_needs_more_than_two_standard_errors(mean, se, metric, expected):
    assert verdict({"mean": mean, "se": se, "n": 3}, metric) == expected


def test_verdict_of_a_missing_comparison():
    assert verdict(None, "accuracy") == "missing"


def test_best_by_val_follows_the_metric_direction():
    frame = _frame([("a", "raw", 1.0, 0, 0, 0.5), ("b", "raw", 1.0, 0, 0, 0.4)])
    cells = [("a", "raw", 1.0), ("b", "raw", 1.0), ("c", "raw", 1.0)]
    assert best_by_val(frame, cells, "accuracy") == ("a", "raw", 1.0)
    assert best_by_val(frame, cells, "rmse") == ("b", "raw", 1.0)
    assert best_by_val(frame, [("c", "raw", 1.0)], "rmse") is None
