"""Pretrained vs untrained encoder, on several datasets and seeds, with a linear and an MLP probe.

For each dataset and seed: fit ``TJEPATransformer`` (parameters from ``--params`` JSON on top of the
defaults) on the train split, and the same architecture untrained (``max_epochs=0``); embed all rows
once; fit on the train split and score on the test split

- a linear probe: standardised logistic regression (accuracy) or ridge regression (RMSE);
- a small MLP probe: scikit-learn's MLP with early stopping on an internal validation share.

The raw features (one-hot categoricals, standardised numericals) get the same two probes.
Writes a JSON per dataset under ``--out`` and prints a table. Usage::

    python benchmarks/pretraining_eval.py --datasets adult california --seeds 0 1 --epochs 6
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _common import linear_probe, mlp_probe, raw_features, write_json
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import TJEPATransformer, load_benchmark


def probes(regression: bool, seed: int) -> dict:
    """The linear and the MLP probe, each behind a StandardScaler."""
    return {
        "linear": make_pipeline(StandardScaler(), linear_probe(regression)),
        "mlp": make_pipeline(StandardScaler(), mlp_probe(seed, regression)),
    }


def score(model, X, y, regression: bool) -> float:
    """Accuracy, or RMSE for regression."""
    return float(root_mean_squared_error(y, model.predict(X))) if regression else float(model.score(X, y))


def evaluate(bunch, params: dict, seed: int) -> dict:
    """Probe scores of raw, untrained and pretrained representations for one seed."""
    regression = bunch.task == "regression"
    frame, target, splits = bunch.frame, bunch.target.to_numpy(), bunch.splits
    train, test = splits["train"], splits["test"]
    raw = raw_features(bunch.categorical_features).fit(frame.iloc[train])
    representations = {"raw": raw.transform(frame)}
    fit_seconds = {}
    history = None
    for name, epochs in (("untrained", 0), ("pretrained", params.get("max_epochs", TJEPATransformer().max_epochs))):
        started = time.perf_counter()
        tjepa = TJEPATransformer(**{**params, "max_epochs": epochs, "random_state": seed}).fit(frame.iloc[train])
        fit_seconds[name] = time.perf_counter() - started
        representations[name] = tjepa.transform(frame)
        if epochs:
            history = tjepa.history_
    results = {}
    for name, Z in representations.items():
        Z = Z.toarray() if hasattr(Z, "toarray") else Z
        for probe_name, probe in probes(regression, seed).items():
            probe.fit(Z[train], target[train])
            results[f"{name}/{probe_name}"] = score(probe, Z[test], target[test], regression)
    return {"seed": seed, "test": results, "fit_seconds": fit_seconds, "history": history}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["adult", "california"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--params", default="{}", help="JSON of TJEPATransformer parameters")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default="results/pretraining_eval")
    args = parser.parse_args()
    params = json.loads(args.params)
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    for name in args.datasets:
        bunch = load_benchmark(name, data_dir=args.data_dir)
        runs = [evaluate(bunch, params, seed) for seed in args.seeds]
        metric = "RMSE" if bunch.task == "regression" else "accuracy"
        keys = list(runs[0]["test"])
        summary = {k: {"mean": float(np.mean([r["test"][k] for r in runs])), "std": float(np.std([r["test"][k] for r in runs]))} for k in keys}
        write_json(Path(args.out) / bunch.code / "result.json", {"params": params, "metric": metric, "summary": summary, "runs": runs})
        print(f"{bunch.code} test {metric} over seeds {args.seeds}:")
        for k in keys:
            print(f"  {k:22s} {summary[k]['mean']:.4f} ± {summary[k]['std']:.4f}")
        print(f"  pretraining seconds: {np.mean([r['fit_seconds']['pretrained'] for r in runs]):.0f}", flush=True)


if __name__ == "__main__":
    main()
