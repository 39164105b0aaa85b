"""The benchmark's data for one run: split, budget subset and labelled fraction.

Every choice made here is seeded and recorded (:func:`data_variant`), so a result says which rows
it used: the data source, whether the dataset is a partial copy (Higgs and Jannis offline copies),
the split protocol and the sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from sklearn_tjepa.datasets import load_benchmark
from sklearn_tjepa.finetune.tasks import UNLABELLED_CLASS

__all__ = ["BenchData", "labelled_rows", "load_data", "MIN_LABELLED", "train_rows_marked"]

#: Fewest labelled rows a label fraction keeps (and at least two per class).
MIN_LABELLED = 10
# Regression targets are stratified on this many quantile bins.
_N_STRATA = 10
_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class BenchData:
    """One dataset under one budget: the frame, the target and the row positions of each split.

    Attributes
    ----------
    name, code, task : str
        Short name, paper code (``"adult_AD"``) and ``"binary"``, ``"multiclass"`` or
        ``"regression"``.
    frame : pandas.DataFrame
        All features.
    target : ndarray
        Class codes or float targets.
    splits : dict of str -> ndarray
        Row positions of ``train``, ``val`` and ``test`` (after the budget's subsets).
    variant : dict
        What the result records about the data (source, partial copy, protocol, sizes).
    """

    name: str
    code: str
    task: str
    frame: pd.DataFrame
    target: np.ndarray
    splits: dict
    variant: dict

    def rows(self, split: str, rows=None):
        """``(X, y)`` of a split, or of the given row positions."""
        rows = self.splits[split] if rows is None else rows
        return self.frame.iloc[rows], self.target[rows]


def _strata(y: np.ndarray, task: str):
    if task == "regression":
        edges = np.quantile(y, np.linspace(0, 1, _N_STRATA + 1)[1:-1])
        return np.searchsorted(edges, y)
    return y


def _subset(rows: np.ndarray, y: np.ndarray, task: str, n: int, seed: int) -> np.ndarray:
    """``n`` of ``rows``, stratified on the target (its quantile bins for regression)."""
    if n >= rows.size:
        return rows
    strata = _strata(y[rows], task)
    try:
        keep, _ = train_test_split(rows, train_size=n, stratify=strata, random_state=seed)
    except ValueError:  # a class too rare to stratify: fall back to a plain seeded draw
        keep = np.random.default_rng(seed).choice(rows, size=n, replace=False)
    return np.sort(keep)


@lru_cache(maxsize=8)
def load_data(name: str, max_rows: tuple, data_dir: str | None) -> BenchData:
    """Load a dataset and apply the budget's row limits.

    Parameters
    ----------
    name : str
        Any name :func:`~sklearn_tjepa.datasets.load_benchmark` knows.
    max_rows : tuple of (split, int) pairs
        The budget's limits (hashable, for the cache); seeded subsets with ``random_state=0``.
    data_dir : str or None
        Passed to :func:`~sklearn_tjepa.datasets.load_benchmark`.

    Returns
    -------
    data : BenchData
    """
    bunch = load_benchmark(name, data_dir=data_dir)
    target = bunch.target.to_numpy()
    limits = dict(max_rows)
    splits = {
        split: _subset(bunch.splits[split], target, bunch.task, limits[split], seed=0)
        if limits.get(split) is not None
        else bunch.splits[split]
        for split in _SPLITS
    }
    variant = {
        "source": bunch.source,
        "partial": bunch.partial,
        "split_protocol": bunch.split_protocol,
        "rows": {split: int(splits[split].size) for split in _SPLITS},
        "full_rows": {split: int(bunch.splits[split].size) for split in _SPLITS},
        "subset_by_budget": bool(limits),
    }
    return BenchData(
        name=bunch.name,
        code=bunch.code,
        task=bunch.task,
        frame=bunch.frame,
        target=target,
        splits=splits,
        variant=variant,
    )


def labelled_rows(data: BenchData, fraction: float, seed: int) -> np.ndarray:
    """The training rows whose labels the downstream model sees.

    A stratified subset (quantile bins for regression) of ``round(fraction * n_train)`` rows, at
    least :data:`MIN_LABELLED` and two per class, drawn with ``random_state=seed``. Pretraining
    always uses all training rows.

    Parameters
    ----------
    data : BenchData
    fraction : float in (0, 1]
    seed : int

    Returns
    -------
    rows : ndarray of int64
        Sorted row positions into ``data.frame``.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"label fraction must be in (0, 1], got fraction={fraction!r}")
    train = data.splits["train"]
    if fraction == 1.0:
        return train
    n_classes = 0 if data.task == "regression" else np.unique(data.target[train]).size
    n = max(int(round(fraction * train.size)), MIN_LABELLED, 2 * n_classes)
    return _subset(train, data.target, data.task, min(n, train.size), seed)


def train_rows_marked(data: BenchData, rows: np.ndarray):
    """Every train row, the labels of those not in ``rows`` marked as unlabelled.

    The marks are the fine-tuners' (:class:`~sklearn_tjepa.TJEPAClassifier`,
    :class:`~sklearn_tjepa.TJEPARegressor`): ``-1`` for a class, NaN for a regression target.

    Parameters
    ----------
    data : BenchData
    rows : ndarray of int64
        The labelled row positions (:func:`labelled_rows`).

    Returns
    -------
    X : DataFrame of shape (n_train, n_features)
    y : ndarray of shape (n_train,)
        The target of the rows in ``rows``, the mark elsewhere.
    """
    X, y = data.rows("train")
    unlabelled = ~np.isin(data.splits["train"], rows)
    if data.task == "regression":
        y = y.astype(np.float64)  # a copy
        y[unlabelled] = np.nan
    else:
        y = y.astype(np.int64)  # a copy of the class codes
        y[unlabelled] = UNLABELLED_CLASS
    return X, y
