"""Paired differences over seeds, the choice of a best cell on val, and the verdict they give.

Two cells of one dataset are compared seed by seed (the same seed means the same labelled rows,
the same split and the same pretraining seed), on the seeds both finished: the mean difference
and its standard error ``std(ddof=1) / sqrt(n)``. A difference *helps* only when it is better by
more than two standard errors in the metric's direction (higher accuracy, lower RMSE), *hurts*
when it is worse by more than two, and is *no clear difference* otherwise; one seed gives no
standard error and no verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["HIGHER_IS_BETTER", "best_by_val", "paired_difference", "verdict"]

#: Direction of each main metric.
HIGHER_IS_BETTER = {"accuracy": True, "rmse": False}


def _scores(frame: pd.DataFrame, cell: tuple, split: str) -> pd.Series:
    model, features, fraction = cell
    rows = frame[(frame["model"] == model) & (frame["features"] == features)
                 & (frame["fraction"] == fraction) & (frame["status"] == "ok")]
    return rows.set_index("seed")[split].dropna()


def paired_difference(frame: pd.DataFrame, cell: tuple, baseline: tuple,
                      split: str = "test") -> dict | None:
    """``cell`` minus ``baseline``, paired by seed.

    Parameters
    ----------
    frame : DataFrame
        One row per result (:func:`~sklearn_tjepa.bench.report.load_results`) of one dataset.
    cell, baseline : tuple of (model, features, fraction)
    split : {"test", "val"}, default="test"

    Returns
    -------
    difference : dict or None
        ``mean``, ``se`` (None for one seed) and ``n``; None when no seed has both.
    """
    a, b = _scores(frame, cell, split), _scores(frame, baseline, split)
    seeds = a.index.intersection(b.index)
    if seeds.empty:
        return None
    diff = (a[seeds] - b[seeds]).to_numpy(dtype=float)
    se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else None
    return {"mean": float(diff.mean()), "se": se, "n": int(diff.size)}


def verdict(difference: dict | None, metric: str) -> str:
    """``"helps"``, ``"hurts"``, ``"no clear difference"``, ``"one seed"`` or ``"missing"``.

    Parameters
    ----------
    difference : dict or None
        From :func:`paired_difference`: the candidate minus its baseline.
    metric : {"accuracy", "rmse"}
    """
    if difference is None:
        return "missing"
    if difference["se"] is None:
        return "one seed"
    gain = difference["mean"] if HIGHER_IS_BETTER[metric] else -difference["mean"]
    if gain > 2 * difference["se"]:
        return "helps"
    if gain < -2 * difference["se"]:
        return "hurts"
    return "no clear difference"


def best_by_val(frame: pd.DataFrame, cells: list[tuple], metric: str) -> tuple | None:
    """The cell of ``cells`` with the best mean val score over its finished seeds.

    Parameters
    ----------
    frame : DataFrame
    cells : list of (model, features, fraction)
    metric : {"accuracy", "rmse"}

    Returns
    -------
    cell : tuple or None
        None when no cell has a result.
    """
    means = {cell: _scores(frame, cell, "val").mean() for cell in cells}
    means = {cell: value for cell, value in means.items() if not np.isnan(value)}
    if not means:
        return None
    pick = max if HIGHER_IS_BETTER[metric] else min
    return pick(means, key=means.get)
