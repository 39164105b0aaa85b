"""Where results go and what they hold: paths, metrics, environment, summaries.

Layout: ``<out>/<dataset_code>/<model>[+tjepa|+untrained|+target][@<fraction>]/output_<seed>.json``
and one ``summary.json`` per directory. Files are written atomically (temporary file, then
rename), so an interrupted run never leaves a half-written result.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score, root_mean_squared_error

__all__ = [
    "MAIN_METRIC",
    "PROTOCOL",
    "environment",
    "metrics",
    "output_path",
    "read_outputs",
    "run_name",
    "summarize",
    "write_json",
]

#: The metric of the tables, by task; RMSE is lower-is-better, the others higher-is-better.
MAIN_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse"}
#: Version of what a result means, recorded in each; a result of another version is stale and
#: runs again. 2: GBDTs and ``linear`` read the raw columns beside the tokens, ``finetune`` starts
#: from the cached encoder of every train row, and each result records ``fit`` and
#: ``config.reads``.
PROTOCOL = 2
_PACKAGES = (
    "sklearn-tjepa", "torch", "scikit-learn", "numpy", "pandas", "skorch", "xgboost-cpu",
    "xgboost", "lightgbm", "catboost", "rtdl-revisiting-models", "rtdl-num-embeddings",
)


def run_name(model: str, features: str, fraction: float) -> str:
    """``<model>[+tjepa|+untrained|+target][@<fraction>]``: the directory of one grid cell."""
    name = model if features == "raw" else f"{model}+{features}"
    return name if fraction == 1.0 else f"{name}@{fraction:g}"


def output_path(out, code: str, model: str, features: str, fraction: float, seed: int) -> Path:
    """The output file of one run."""
    return Path(out) / code / run_name(model, features, fraction) / f"output_{seed}.json"


def metrics(task: str, estimator, X, y) -> dict:
    """Scores of a fitted estimator: accuracy (and ROC-AUC for binary tasks) or RMSE.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)

    Returns
    -------
    scores : dict of str -> float
    """
    if task == "regression":
        return {"rmse": float(root_mean_squared_error(y, estimator.predict(X)))}
    proba = estimator.predict_proba(X)
    predicted = np.asarray(estimator.classes_)[proba.argmax(axis=1)]
    scores = {"accuracy": float(accuracy_score(y, predicted))}
    if task == "binary":
        scores["roc_auc"] = float(roc_auc_score(y, proba[:, 1]))
    return scores


def _git_commit() -> dict:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": head, "dirty": bool(dirty)}


@lru_cache(maxsize=1)
def environment() -> dict:
    """Package versions, git commit and machine of this run (computed once per process)."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    import torch

    return {
        "versions": versions,
        "git": _git_commit(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
    }


def write_json(path, payload: dict) -> None:
    """Write ``payload`` to ``path`` atomically (a temporary file renamed over it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n")
    os.replace(tmp, path)


def read_outputs(directory) -> list[dict]:
    """The ``output_<seed>.json`` records of a result directory, in seed order."""
    records = [json.loads(p.read_text()) for p in Path(directory).glob("output_*.json")]
    return sorted(records, key=lambda r: r["seed"])


def _stats(values: list[float]) -> dict:
    values = np.asarray(values, dtype=float)
    return {
        "mean": float(values.mean()) if values.size else None,
        "std": float(values.std(ddof=1)) if values.size > 1 else None,
        "n": int(values.size),
    }


def summarize(directory) -> dict:
    """Write and return ``summary.json`` of a result directory.

    Holds ``metric`` (the main metric), ``test`` and ``val`` (``mean``, ``std`` with ``ddof=1``,
    null for one seed, and ``n`` over the successful seeds), the same for every other score under
    ``scores``, the mean pretraining, fit and inference seconds, ``fit`` (the unit, the mean
    epochs or rounds run, the largest cap and how many fits the cap ended; null for results
    without the record), ``seeds`` and ``failed_seeds``.
    """
    records = read_outputs(directory)
    ok = [r for r in records if r["status"] == "ok"]
    extents = [r["fit"] for r in ok if r.get("fit")]
    metric = MAIN_METRIC[records[0]["task"]] if records else None
    names = sorted({name for r in ok for name in r["test"]})
    summary = {
        "metric": metric,
        "test": _stats([r["test"][metric] for r in ok]),
        "val": _stats([r["val"][metric] for r in ok]),
        "scores": {
            name: {split: _stats([r[split][name] for r in ok]) for split in ("test", "val")}
            for name in names
        },
        "seconds": {
            key: _stats([r["seconds"][key] for r in ok])["mean"]
            for key in ("pretraining", "fit", "inference")
        },
        "fit": {
            "unit": extents[0]["unit"],
            "run": _stats([e["run"] for e in extents]),
            "cap": max(e["cap"] for e in extents),
            "ended_by_cap": sum(e["ended_by"] == "cap" for e in extents),
        } if extents else None,
        "seeds": [r["seed"] for r in ok],
        "failed_seeds": [r["seed"] for r in records if r["status"] != "ok"],
    }
    write_json(Path(directory) / "summary.json", summary)
    return summary
