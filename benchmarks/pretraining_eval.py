"""Pretrained vs untrained encoder, and objective variants, over seeds, probed on val and on test.

For each dataset and seed: fit the architecture untrained (``max_epochs=0``, parameters from
``--params`` on top of the defaults) once, and each variant (``--variants``: a JSON object of
name -> parameters on top of ``--params``; by default one variant, ``pretrained``, with no
change) on the train split; embed all rows; fit each probe on the train split and score it on the
validation and on the test split:

- a linear probe: standardised logistic regression (accuracy and ROC-AUC) or ridge regression
  (RMSE);
- with ``--probes linear mlp``, also a small MLP probe: scikit-learn's MLP with early stopping
  on an internal validation share.

The raw features (one-hot categoricals, standardised numericals) get the same probes; with
``--with-raw`` the untrained embedding and the first variant's are also probed concatenated with
the raw features. Choices are meant to be made on the ``val`` figures; ``test`` is reported for
the record. The summary gives, per variant, the paired difference to the untrained encoder and to
the first variant across seeds (mean and standard error). Writes
``<out>/<dataset code>/result.json`` after every seed and prints a table; ``--combine`` instead
merges the runs of several such files (e.g. seeds run in separate processes) into
``<out>/result.json``. Usage::

    python benchmarks/pretraining_eval.py --datasets adult california --seeds 0 1 2 \\
        --variants '{"pretrained": {}, "vicreg": {"variance_weight": 1.0}}' --with-raw
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _common import mlp_probe, raw_features
from sklearn.metrics import accuracy_score, roc_auc_score, root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import TJEPATransformer, load_benchmark
from sklearn_tjepa.probes import linear_probe

SPLITS = ("val", "test")


def probes(regression: bool, seed: int, names) -> dict:
    """The requested probes (``"linear"``, ``"mlp"``), each behind a StandardScaler."""
    kinds = {
        "linear": lambda: linear_probe(regression=regression),
        "mlp": lambda: make_pipeline(StandardScaler(), mlp_probe(seed, regression)),
    }
    return {name: kinds[name]() for name in names}


def scores(model, X, y, regression: bool) -> dict:
    """RMSE for regression; accuracy and ROC-AUC (binary targets) for classification."""
    if regression:
        return {"rmse": float(root_mean_squared_error(y, model.predict(X)))}
    proba = model.predict_proba(X)
    result = {"accuracy": float(accuracy_score(y, model.classes_[proba.argmax(axis=1)]))}
    if proba.shape[1] == 2:
        result["roc_auc"] = float(roc_auc_score(y, proba[:, 1]))
    return result


def evaluate(bunch, params: dict, variants: dict, seed: int, *, probe_names, with_raw: bool) -> dict:
    """Probe scores on val and test of the raw, untrained and variant representations for one seed."""
    regression = bunch.task == "regression"
    frame, target, splits = bunch.frame, bunch.target.to_numpy(), bunch.splits
    train = splits["train"]
    raw = raw_features(bunch.categorical_features).fit(frame.iloc[train])
    raw_table = raw.transform(frame)
    representations = {"raw": raw_table.toarray() if hasattr(raw_table, "toarray") else raw_table}
    fit_seconds, histories = {}, {}
    arms = {"untrained": {**params, "max_epochs": 0}}
    arms.update({name: {**params, **changes} for name, changes in variants.items()})
    for name, arm_params in arms.items():
        started = time.perf_counter()
        tjepa = TJEPATransformer(**{**arm_params, "random_state": seed}).fit(frame.iloc[train])
        fit_seconds[name] = time.perf_counter() - started
        representations[name] = tjepa.transform(frame)
        if tjepa.n_iter_:
            histories[name] = tjepa.history_
    if with_raw:
        for name in ("untrained", next(iter(variants))):
            representations[f"{name}+raw"] = np.hstack([representations[name], representations["raw"]])
    results = {split: {} for split in SPLITS}
    for name, Z in representations.items():
        for probe_name, probe in probes(regression, seed, probe_names).items():
            probe.fit(Z[train], target[train])
            for split in SPLITS:
                rows = splits[split]
                results[split][f"{name}/{probe_name}"] = scores(probe, Z[rows], target[rows], regression)
    return {"seed": seed, **results, "fit_seconds": fit_seconds, "history": histories}


def paired(a: list, b: list) -> dict:
    """Mean and standard error of the paired differences ``a - b`` across seeds."""
    difference = np.asarray(a) - np.asarray(b)
    se = float(difference.std(ddof=1) / np.sqrt(difference.size)) if difference.size > 1 else float("nan")
    return {"mean": float(difference.mean()), "se": se, "n": int(difference.size)}


def summarise(runs: list, variants: dict) -> dict:
    """Per split, representation/probe and metric: mean and standard deviation across seeds, and
    the paired differences of each variant to ``untrained`` and to the first variant."""
    summary = {}
    first = next(iter(variants))
    for split in SPLITS:
        summary[split] = {}
        for key, metrics in runs[0][split].items():
            for metric in metrics:
                values = [run[split][key][metric] for run in runs]
                entry = {"mean": float(np.mean(values)), "std": float(np.std(values))}
                name, probe = key.split("/")
                baselines = {"untrained": f"untrained/{probe}", first: f"{first}/{probe}"}
                if name.endswith("+raw"):
                    baselines = {name.removesuffix("+raw"): f"{name.removesuffix('+raw')}/{probe}"}
                for label, other in baselines.items():
                    if other != key and name != "raw":
                        entry[f"minus_{label}"] = paired(values, [run[split][other][metric] for run in runs])
                summary[split][f"{key}/{metric}"] = entry
    return summary


def combine(paths, out) -> dict:
    """Merge the runs of several result files of the same variants; write and return the result."""
    results = [json.loads(Path(path).read_text()) for path in paths]
    runs = [run for result in results for run in result["runs"]]
    variants = results[0]["variants"]
    payload = {
        "params": results[0]["params"],
        "variants": variants,
        "seeds": [run["seed"] for run in runs],
        "summary": summarise(runs, variants),
        "runs": runs,
    }
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "result.json").write_text(json.dumps(payload, indent=2))
    return payload


def print_summary(code: str, seeds, summary: dict) -> None:
    """Print mean ± std and the paired differences (mean ± standard error) of every entry."""
    for split in SPLITS:
        print(f"{code} {split}, seeds {seeds}:")
        for key, entry in summary[split].items():
            differences = "  ".join(
                f"{label} {value['mean']:+.4f} ± {value['se']:.4f}" for label, value in entry.items() if label.startswith("minus_")
            )
            print(f"  {key:32s} {entry['mean']:.4f} ± {entry['std']:.4f}  {differences}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["adult", "california"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--params", default="{}", help="JSON of TJEPATransformer parameters for every arm")
    parser.add_argument("--variants", default='{"pretrained": {}}', help="JSON: variant name -> parameters")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--probes", nargs="+", default=["linear", "mlp"], choices=["linear", "mlp"])
    parser.add_argument("--with-raw", action="store_true", help="also probe embeddings concatenated with raw features")
    parser.add_argument("--out", default="results/pretraining_eval")
    parser.add_argument("--combine", nargs="+", default=None, help="result.json files to merge into <out>")
    args = parser.parse_args()
    if args.combine:
        payload = combine(args.combine, args.out)
        print_summary(Path(args.out).name, payload["seeds"], payload["summary"])
        return
    params = json.loads(args.params)
    variants = json.loads(args.variants)
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    for name in args.datasets:
        bunch = load_benchmark(name, data_dir=args.data_dir)
        out = Path(args.out) / bunch.code
        out.mkdir(parents=True, exist_ok=True)
        runs = []
        for seed in args.seeds:
            runs.append(evaluate(bunch, params, variants, seed, probe_names=args.probes, with_raw=args.with_raw))
            summary = summarise(runs, variants)
            payload = {"params": params, "variants": variants, "seeds": args.seeds[: len(runs)], "summary": summary, "runs": runs}
            (out / "result.json").write_text(json.dumps(payload, indent=2))
            print(f"{bunch.code}: seed {seed} done ({len(runs)}/{len(args.seeds)})", flush=True)
        print_summary(bunch.code, args.seeds, summary)
        print(f"  pretraining seconds: { {k: round(float(np.mean([r['fit_seconds'][k] for r in runs]))) for k in runs[0]['fit_seconds']} }", flush=True)


if __name__ == "__main__":
    main()
