"""Linear-probe sweep: does T-JEPA pretraining beat the same encoder untrained?

For each variant (TJEPATransformer parameters on top of the defaults), pretrain on the train
split, probe the embeddings every ``--every`` epochs on the validation split (standardised
logistic regression, or ridge for regression), and also probe the same architecture untrained
(``max_epochs=0``). Writes one JSON per variant under ``--out`` and prints a table.

Usage::

    python benchmarks/probe_sweep.py --dataset adult --variants benchmarks/configs/tjepa_sweep.json \
        --only default periodic --epochs 10 --every 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _common import write_json

from sklearn_tjepa import TJEPATransformer, load_benchmark
from sklearn_tjepa.callbacks import LinearProbe
from sklearn_tjepa.training.monitoring import collapse_statistics


def run_variant(name, params, bunch, *, epochs, every, probe_rows, seed, verbose=0):
    """Pretrain one variant and return its record (probe curve, collapse statistics, timings)."""
    frame, target, splits = bunch.frame, bunch.target.to_numpy(), bunch.splits
    train = frame.iloc[splits["train"]]
    probe_index = np.random.default_rng(seed).permutation(splits["train"])[:probe_rows]
    regression = bunch.task == "regression"
    probe = LinearProbe(
        frame.iloc[probe_index], target[probe_index], frame.iloc[splits["val"]], target[splits["val"]],
        every=every, regression=regression,
    )
    untrained = TJEPATransformer(**{**params, "max_epochs": 0, "random_state": seed}).fit(train)
    monitor = untrained.transform(train.iloc[np.random.default_rng(seed).permutation(len(train))[:1024]])
    untrained_collapse = collapse_statistics(torch.from_numpy(monitor))
    started = time.perf_counter()
    model = TJEPATransformer(**{**params, "max_epochs": epochs, "random_state": seed, "callbacks": [probe], "verbose": verbose}).fit(train)
    return {
        "variant": name,
        "params": params,
        "dataset": bunch.code,
        "seed": seed,
        "untrained_probe": probe.score(untrained),
        "untrained_collapse": untrained_collapse,
        "fit_seconds_with_probes": time.perf_counter() - started,
        "history": model.history_,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--variants", default=str(Path(__file__).parent / "configs" / "tjepa_sweep.json"))
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run (default: all)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--probe-rows", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/sweep")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()

    bunch = load_benchmark(args.dataset, data_dir=args.data_dir)
    variants = json.loads(Path(args.variants).read_text())
    names = args.only or list(variants)
    for name in names:
        result = run_variant(name, variants[name], bunch, epochs=args.epochs, every=args.every,
                             probe_rows=args.probe_rows, seed=args.seed, verbose=args.verbose)
        write_json(Path(args.out) / bunch.code / f"{name}.json", result)
        curve = " ".join(f"{h['epoch']}:{h['probe_score']:.4f}" for h in result["history"] if "probe_score" in h)
        last = result["history"][-1]
        print(
            f"{name:24s} untrained {result['untrained_probe']:.4f} "
            f"(std {result['untrained_collapse']['embedding_std']:.4f} rank {result['untrained_collapse']['effective_rank']:.1f}) | {curve} | "
            f"loss {last['loss']:.4f} std {last['embedding_std']:.4f} rank {last['effective_rank']:.1f} "
            f"| {last['seconds']:.1f}s/epoch",
            flush=True,
        )


if __name__ == "__main__":
    main()
