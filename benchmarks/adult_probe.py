"""The main job: T-JEPA embeddings + a linear probe on Adult, against two baselines.

Fits ``Pipeline(TJEPATransformer(), StandardScaler(), LogisticRegression())`` on Adult's train
split (the copy shipped inside the package), scores accuracy on the standard test split, and prints
it beside

- a logistic regression on the raw features (one-hot categoricals, standardised numericals), and
- the same probe on the same encoder *untrained* (``max_epochs=0``),

with fit times. With ``--mlp`` each representation also gets a small MLP probe (scikit-learn's
``MLPClassifier``, 128 hidden units, early stopping on an internal share of the train rows).
Writes the figures to ``--out`` as JSON. Usage::

    python benchmarks/adult_probe.py [--epochs N] [--seed S] [--data-dir DIR] [--mlp]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from _common import mlp_probe, raw_features, versions, write_json
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import TJEPATransformer, load_benchmark
from sklearn_tjepa.probes import linear_probe


def probe_pipeline(**tjepa_params) -> Pipeline:
    """T-JEPA embeddings into the linear probe (standardisation, logistic regression)."""
    return Pipeline([("tjepa", TJEPATransformer(**tjepa_params)), ("probe", linear_probe())])


def timed_fit_score(model, X_train, y_train, X_test, y_test) -> dict:
    """Fit ``model``, return its test accuracy and seconds taken."""
    started = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    return {"test_accuracy": float(model.score(X_test, y_test)), "fit_seconds": fit_seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="pretraining epochs (default: the estimator's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="directory with adult.parquet (default: shipped copy)")
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--mlp", action="store_true", help="also fit an MLP probe on every representation")
    parser.add_argument("--out", default="results/adult_AD/main_job.json")
    args = parser.parse_args()

    bunch = load_benchmark("adult", data_dir=args.data_dir)
    frame, target, splits = bunch.frame, bunch.target.to_numpy(), bunch.splits
    X_train, y_train = frame.iloc[splits["train"]], target[splits["train"]]
    X_test, y_test = frame.iloc[splits["test"]], target[splits["test"]]
    print(f"Adult ({bunch.source}): {len(X_train)} train rows, {len(X_test)} test rows, {frame.shape[1]} features")

    def raw(head):
        return make_pipeline(raw_features(bunch.categorical_features), head)

    raw_probe = linear_probe(preprocessing=raw_features(bunch.categorical_features))

    params = {"random_state": args.seed, "verbose": args.verbose}
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    untrained = probe_pipeline(**{**params, "max_epochs": 0, "verbose": 0})
    pretrained = probe_pipeline(**params)
    results = {
        "raw_one_hot_logistic_regression": timed_fit_score(raw_probe, X_train, y_train, X_test, y_test),
        "untrained_encoder_probe": timed_fit_score(untrained, X_train, y_train, X_test, y_test),
        "tjepa_probe": timed_fit_score(pretrained, X_train, y_train, X_test, y_test),
    }
    if args.mlp:
        results["raw_one_hot_mlp"] = timed_fit_score(raw(mlp_probe(args.seed)), X_train, y_train, X_test, y_test)
        for name, fitted in (("untrained_encoder_mlp", untrained), ("tjepa_mlp", pretrained)):
            tjepa = fitted.named_steps["tjepa"]
            head = make_pipeline(StandardScaler(), mlp_probe(args.seed))
            results[name] = timed_fit_score(head, tjepa.transform(X_train), y_train, tjepa.transform(X_test), y_test)
            results[name]["fit_seconds_note"] = "head only, on the embeddings of the fitted transformer above"
    history = pretrained.named_steps["tjepa"].history_
    results["tjepa_probe"]["pretraining_seconds"] = sum(h["seconds"] for h in history)
    results["tjepa_probe"]["epochs"] = len(history)
    results["tjepa_probe"]["final_loss"] = history[-1]["loss"]

    print(f"\n{'model':34s} {'test accuracy':>13s} {'fit seconds':>11s}")
    for name, figures in results.items():
        print(f"{name:34s} {figures['test_accuracy']:13.4f} {figures['fit_seconds']:11.1f}")
    gain = results["tjepa_probe"]["test_accuracy"] - results["untrained_encoder_probe"]["test_accuracy"]
    print(f"\npretraining gain over the untrained encoder (linear probe): {gain:+.4f} accuracy")
    if args.mlp:
        gain = results["tjepa_mlp"]["test_accuracy"] - results["untrained_encoder_mlp"]["test_accuracy"]
        print(f"pretraining gain over the untrained encoder (MLP probe): {gain:+.4f} accuracy")

    out = write_json(
        args.out,
        {
            "dataset": bunch.code,
            "seed": args.seed,
            "tjepa_params": pretrained.named_steps["tjepa"].get_params(),
            "results": results,
            "history": history,
            "versions": versions(),
            "machine": {"cpu_count": torch.get_num_threads(), "platform": platform.platform()},
        },
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
