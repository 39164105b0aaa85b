"""The main job: fine-tuning with few labels from a T-JEPA-pretrained encoder, beside the same
encoder untrained and a gradient-boosted tree model.

On California Housing (shipped with the package; ``--dataset adult`` for Adult), seed ``--seed``:

1. ``TJEPATransformer`` (the package's defaults, ``--epochs`` 10) is pretrained on every train row
   without its label; the same transformer with ``max_epochs=0`` (same parameters and seed, so the
   same initial weights and preprocessing) is the untrained encoder.
2. For each label fraction (``--fractions``, 1 % and 10 %), a seeded stratified subset of the train
   rows (quantile bins of the target for regression) keeps its labels.
3. On those rows, ``TJEPARegressor`` (``TJEPAClassifier`` for Adult) fine-tunes each encoder with
   a head, at most ``--finetune-epochs`` 60 epochs, early-stopped on the validation split; CatBoost
   with its library defaults (scikit-learn's HistGradientBoosting when catboost is not installed)
   is fitted on the same rows, early-stopped on the same split.
4. Test RMSE (in $100,000 for California) or accuracy, the seconds of each fit, the pretraining
   seconds and the peak memory are printed and written, with the versions, git commit, CPU count
   and torch threads, as ``few_labels.json`` to a new folder under ``./sklearn_tjepa_runs/``
   (``--out DIR`` names another); its path is printed. No file of the repository changes.

Usage::

    python benchmarks/few_labels.py [--dataset california|adult] [--seed S] [--epochs N]
        [--finetune-epochs N] [--fractions F [F ...]] [--data-dir DIR] [--out DIR]
        [--max-rows N] [--tiny]

``--max-rows`` and ``--tiny`` (a seeded subset of every split, and the benchmark's smoke-budget
model sizes) are for checking the plumbing in seconds; their figures are not measurements.
"""

from __future__ import annotations

import argparse
import time

from _common import run_folder, write_json
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from sklearn_tjepa import TJEPAClassifier, TJEPARegressor, TJEPATransformer, list_benchmarks
from sklearn_tjepa.baselines import make_gbdt
from sklearn_tjepa.bench.budgets import get_budget
from sklearn_tjepa.bench.data import labelled_rows, load_data
from sklearn_tjepa.bench.results import MAIN_METRIC, environment, metrics
from sklearn_tjepa.training.monitoring import peak_memory

#: The models compared at every label fraction, in the table's order.
MODELS = ("pretrained", "untrained", "gbdt")
#: How the table names each metric.
METRIC_NAMES = {"rmse": "RMSE", "accuracy": "accuracy"}
#: The unit of a regression target, where the dataset has one.
TARGET_UNITS = {"california": "$100,000"}
_SPLITS = ("train", "val", "test")


def parse_args(argv=None) -> argparse.Namespace:
    """The command line; fractions outside (0, 1] and a ``--max-rows`` below 1 are refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("california", "adult"), default="california")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10, help="pretraining epochs (default: 10)")
    parser.add_argument("--finetune-epochs", type=int, default=60,
                        help="most fine-tuning epochs, early-stopped on the val split (default: 60)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.1],
                        help="shares of the train rows that keep their labels (default: 0.01 0.1)")
    parser.add_argument("--data-dir", default=None,
                        help="dataset folder (default: SKLEARN_TJEPA_DATA, else the shipped copy)")
    parser.add_argument("--out", default=None,
                        help="results folder (default: a new one under ./sklearn_tjepa_runs)")
    parser.add_argument("--max-rows", type=int, default=None,
                        help="a seeded stratified subset of at most N rows of every split (a quick check)")
    parser.add_argument("--tiny", action="store_true",
                        help="the smoke budget's tiny T-JEPA and head (a quick check, not a measurement)")
    args = parser.parse_args(argv)
    bad = [f for f in args.fractions if not 0.0 < f <= 1.0]
    if bad:
        parser.error(f"--fractions must be in (0, 1], got {bad}")
    if args.max_rows is not None and args.max_rows < 1:
        parser.error(f"--max-rows must be at least 1, got {args.max_rows}")
    return args


def model_settings(tiny: bool) -> tuple[dict, dict]:
    """``TJEPATransformer`` parameters beyond the package defaults, and the fine-tuners' head.

    Both empty for the real run; with ``tiny``, the benchmark's smoke-budget sizes (its epochs
    aside: ``--epochs`` sets them).
    """
    if not tiny:
        return {}, {}
    smoke = get_budget("smoke")
    tjepa = {key: value for key, value in smoke.tjepa.items() if key != "max_epochs"}
    return tjepa, dict(smoke.deep_overrides["finetune"])


def make_booster(task: str, seed: int) -> tuple[str, object, str | None]:
    """CatBoost, or HistGradientBoosting when catboost is not installed: name, model, why."""
    kind = "regression" if task == "regression" else "classification"
    try:
        return "catboost", make_gbdt("catboost", task=kind, random_state=seed), None
    except ImportError as exc:
        note = f"CatBoost is not installed, so scikit-learn's HistGradientBoosting stands in ({exc})"
        return "hist_gradient_boosting", make_gbdt("hist_gradient_boosting", task=kind, random_state=seed), note


class Steps:
    """One numbered line as each step starts and one as it ends."""

    def __init__(self, total: int):
        self.total, self.done = total, 0

    def start(self, text: str) -> float:
        """Announce the next step; returns its start time."""
        self.done += 1
        print(f"[{self.done}/{self.total}] {text} ...", flush=True)
        return time.perf_counter()

    def end(self, started: float, text: str) -> float:
        """Close the step begun at ``started`` with ``text``; returns its seconds."""
        seconds = time.perf_counter() - started
        print(f"[{self.done}/{self.total}] {seconds:.1f} s; {text}", flush=True)
        return seconds


def pretrain(params: dict, X, steps: Steps, text: str) -> tuple[TJEPATransformer, dict]:
    """Fit a ``TJEPATransformer`` on ``X`` without labels; the transformer and its record."""
    started = steps.start(text)
    transformer = TJEPATransformer(**params).fit(X)
    history = transformer.history_
    final_loss = history[-1]["loss"] if history else None
    seconds = steps.end(started, "no training" if final_loss is None else f"final loss {final_loss:.4f}")
    record = {"seconds": seconds, "epochs": len(history), "final_loss": final_loss, "history": history}
    return transformer, record


def fit_and_score(model, task: str, train, val, test, steps: Steps, text: str) -> dict:
    """Fit ``model`` on ``train`` early-stopped on ``val``; test scores and fit seconds.

    ``train``, ``val`` and ``test`` are ``(X, y)`` pairs.
    """
    started = steps.start(text)
    model.fit(*train, X_val=val[0], y_val=val[1])
    seconds = time.perf_counter() - started
    scores = metrics(task, model, *test)
    metric = MAIN_METRIC[task]
    steps.end(started, f"test {metric} {scores[metric]:.4f}")
    record = {**scores, "fit_seconds": seconds}
    if hasattr(model, "best_epoch_"):  # the fine-tuners
        record.update(epochs=model.n_iter_, best_epoch=model.best_epoch_)
    return record


def percent(fraction: float) -> str:
    """``0.01`` -> ``"1%"``."""
    return f"{fraction * 100:g}%"


def table(run: dict) -> str:
    """The results as text: a row per label fraction, each model's test score and fit seconds."""
    metric = run["metric"]
    unit = f" in {run['target_unit']}" if run["target_unit"] else ""
    better = "lower" if metric == "rmse" else "higher"
    gbdt = "CatBoost" if run["gbdt"] == "catboost" else "HistGradientBoosting"
    names = ("T-JEPA pretrained", "untrained encoder", gbdt)
    lines = [
        f"{run['dataset']['title']}: test {METRIC_NAMES[metric]}{unit} ({better} is better), "
        "fit seconds in brackets",
        f"{'labelled rows':<16s}" + "".join(f"{name:>25s}" for name in names),
    ]
    for row in run["results"]:
        cells = "".join(f"{row[m][metric]:>14.4f} ({row[m]['fit_seconds']:6.1f} s)" for m in MODELS)
        lines.append(f"{row['labelled_rows']} ({percent(row['fraction'])})".ljust(16) + cells)
    pretraining, untrained = run["pretraining"], run["untrained"]
    lines += [
        f"pretraining: {pretraining['epochs']} epochs on {run['dataset']['rows']['train']} train rows "
        f"without labels, {pretraining['seconds']:.1f} s (untrained encoder: {untrained['seconds']:.1f} s)",
        f"peak RSS: {run['peak_rss_mb']:.0f} MiB; whole job: {run['total_seconds']:.1f} s",
    ]
    return "\n".join(lines)


def main(argv=None) -> dict:
    """Run the comparison, print it and write ``few_labels.json``; returns what was written."""
    args = parse_args(argv)
    began = time.perf_counter()
    tjepa_extra, head = model_settings(args.tiny)
    with peak_memory() as memory:
        max_rows = () if args.max_rows is None else tuple((s, args.max_rows) for s in _SPLITS)
        data = load_data(args.dataset, max_rows, args.data_dir)
        title = list_benchmarks().loc[data.name, "title"]
        sizes = "/".join(str(data.variant["rows"][s]) for s in _SPLITS)
        print(f"{title} ({data.variant['source']}): train/val/test {sizes} rows, "
              f"{data.frame.shape[1]} features, task {data.task}", flush=True)
        gbdt_name, booster, gbdt_note = make_booster(data.task, args.seed)
        if gbdt_note:
            print(gbdt_note, flush=True)

        steps = Steps(2 + len(MODELS) * len(args.fractions))
        X_train = data.rows("train")[0]
        params = {**tjepa_extra, "max_epochs": args.epochs, "random_state": args.seed}
        pretrained, pretraining = pretrain(
            {**params, "verbose": 1}, X_train, steps,
            f"pretraining T-JEPA on {len(X_train)} train rows without labels ({args.epochs} epochs)",
        )
        untrained, untrained_record = pretrain(
            {**params, "max_epochs": 0}, X_train, steps, "the untrained encoder (max_epochs=0)"
        )

        kind = TJEPARegressor if data.task == "regression" else TJEPAClassifier
        finetune_params = {"max_epochs": args.finetune_epochs, "random_state": args.seed, **head}
        val, test = data.rows("val"), data.rows("test")
        results = []
        for fraction in args.fractions:
            rows = labelled_rows(data, fraction, args.seed)
            train = data.rows("train", rows)
            label = f"{len(rows)} labelled rows ({percent(fraction)})"
            row = {"fraction": fraction, "labelled_rows": int(len(rows))}
            for name, encoder in (("pretrained", pretrained), ("untrained", untrained)):
                model = kind(tjepa=FrozenEstimator(encoder), **finetune_params)
                row[name] = fit_and_score(model, data.task, train, val, test, steps,
                                          f"{label}: fine-tuning the {name} encoder")
            row["gbdt"] = fit_and_score(clone(booster), data.task, train, val, test, steps,
                                        f"{label}: {gbdt_name}")
            results.append(row)
    run = {
        "dataset": {"name": data.name, "code": data.code, "title": title, "task": data.task,
                    **data.variant},
        "metric": MAIN_METRIC[data.task],
        "target_unit": TARGET_UNITS.get(data.name),
        "arguments": vars(args),
        "tjepa_params": pretrained.get_params(),
        "finetune": {"estimator": kind.__name__,
                     "params": {k: v for k, v in kind(**finetune_params).get_params().items() if k != "tjepa"}},
        "gbdt": gbdt_name,
        "gbdt_params": {**{k: v for k, v in booster.get_params(deep=False).items() if k != "estimator"},
                        "estimator": booster.estimator.get_params()},
        "gbdt_note": gbdt_note,
        "pretraining": pretraining,
        "untrained": untrained_record,
        "results": results,
        "peak_rss_mb": memory["peak_mb"],
        "peak_rss_scope": memory["scope"],
        "total_seconds": time.perf_counter() - began,
        **environment(),
    }
    print("\n" + table(run))
    out = write_json(run_folder(args.out, "few_labels") / "few_labels.json", run)
    print(f"written to {out}")
    return run


if __name__ == "__main__":
    main()
