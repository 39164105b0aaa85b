"""Does ``missing_share`` make embeddings of rows with missing values usable?

For each seed: pretrain ``TJEPATransformer`` on the complete train split with each
``missing_share`` of ``--shares`` (parameters from ``--params`` on top of the defaults); fit a
linear probe (standardised ridge, or logistic regression) on the embeddings of the complete train
rows; score it on the validation rows with a random share ``q`` of their values blanked (NaN), for
each ``q`` of ``--blanked``. Writes ``<out>/<dataset code>/result.json`` after every seed. Usage::

    python benchmarks/missing_values_eval.py --dataset california --seeds 0 1 --shares 0 0.05
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, root_mean_squared_error

from sklearn_tjepa import TJEPATransformer, load_benchmark
from sklearn_tjepa.probes import linear_probe


def blank(frame, share: float, seed: int):
    """A copy of ``frame`` with a random ``share`` of its cells set to missing."""
    hidden = np.random.default_rng(seed).random(frame.shape) < share
    return frame.mask(hidden)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="california")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--shares", nargs="+", type=float, default=[0.0, 0.05])
    parser.add_argument("--blanked", nargs="+", type=float, default=[0.0, 0.1, 0.3])
    parser.add_argument("--params", default="{}", help="JSON of TJEPATransformer parameters")
    parser.add_argument("--out", default="results/missing_values_eval")
    args = parser.parse_args()
    params = json.loads(args.params)
    bunch = load_benchmark(args.dataset, data_dir=args.data_dir)
    regression = bunch.task == "regression"
    frame, target, splits = bunch.frame, bunch.target.to_numpy(), bunch.splits
    train, val = frame.iloc[splits["train"]], frame.iloc[splits["val"]]
    runs = []
    for seed in args.seeds:
        run = {"seed": seed, "val": {}}
        for share in args.shares:
            tjepa = TJEPATransformer(**{**params, "missing_share": share, "random_state": seed}).fit(train)
            probe = linear_probe(regression=regression)
            probe.fit(tjepa.transform(train), target[splits["train"]])
            for q in args.blanked:
                predicted = probe.predict(tjepa.transform(blank(val, q, seed)))
                y = target[splits["val"]]
                value = root_mean_squared_error(y, predicted) if regression else accuracy_score(y, predicted)
                run["val"][f"missing_share={share}/blanked={q}"] = float(value)
        runs.append(run)
        out = Path(args.out) / bunch.code
        out.mkdir(parents=True, exist_ok=True)
        (out / "result.json").write_text(json.dumps({"params": params, "metric": "rmse" if regression else "accuracy", "runs": runs}, indent=2))
        print(f"seed {seed}: {run['val']}", flush=True)


if __name__ == "__main__":
    main()
