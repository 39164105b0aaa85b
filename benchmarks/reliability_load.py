"""Peak memory and time of a 1-epoch fit of a tiny TJEPATransformer on n x 50 random rows.

Each size runs in a fresh interpreter, which reports its resident memory after importing and
building the table (``before_fit_mb``), its peak resident memory during the fit
(:func:`sklearn_tjepa.training.monitoring.peak_memory`; ``peak_scope`` is ``"process"`` where the
peak cannot be reset, and the figure is then the process's peak so far) and the fit's wall time.
``fit_increase_mb = peak - before_fit`` is what the fit itself added; divided by the rows it shows
whether memory grows at most linearly with the rows.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/reliability_load.py            # 25k, 50k, 100k, 200k rows
    OMP_NUM_THREADS=1 python benchmarks/reliability_load.py --rows 200000

Prints a Markdown table and writes ``results/reliability_load.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from _common import versions, write_json

N_FEATURES = 50
TINY = dict(
    d_model=8, n_layers=1, n_heads=2, ffn_dim=16, predictor_d_model=8, predictor_n_layers=1, predictor_n_heads=2,
    predictor_ffn_dim=16, max_epochs=1, batch_size=256, device="cpu", random_state=0,
)


def measure(n_rows: int) -> dict:
    """Fit once in this process and return its figures (run in a fresh interpreter)."""
    import numpy as np
    import torch

    from sklearn_tjepa import TJEPATransformer
    from sklearn_tjepa.training.monitoring import peak_memory, resident_memory_mb

    torch.set_num_threads(1)
    X = np.random.default_rng(0).normal(size=(n_rows, N_FEATURES))
    before = resident_memory_mb()
    started = time.perf_counter()
    with peak_memory() as memory:
        est = TJEPATransformer(**TINY).fit(X)
    seconds = time.perf_counter() - started
    peak = memory["peak_mb"]
    return {
        "rows": n_rows,
        "features": N_FEATURES,
        "table_mb": X.nbytes / 2**20,
        "before_fit_mb": before,
        "peak_mb": peak,
        "peak_scope": memory["scope"],
        "fit_increase_mb": peak - before,
        "fit_increase_bytes_per_row": (peak - before) * 2**20 / n_rows,
        "fit_seconds": seconds,
        "loss": est.history_[-1]["loss"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[25_000, 50_000, 100_000, 200_000])
    parser.add_argument("--out", default="results/reliability_load.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child)))
        return
    runs = []
    for n_rows in args.rows:
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(n_rows)], check=True, capture_output=True, text=True
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    print("| rows x features | table | RSS before fit | peak RSS | fit added | per row | fit time | loss |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run['rows']:,} x {run['features']} | {run['table_mb']:.0f} MiB | {run['before_fit_mb']:.0f} MiB "
            f"| {run['peak_mb']:.0f} MiB | {run['fit_increase_mb']:.0f} MiB | {run['fit_increase_bytes_per_row']:.0f} B "
            f"| {run['fit_seconds']:.1f} s | {run['loss']:.3f} |"
        )
    path = write_json(args.out, {"versions": versions(), "settings": TINY, "runs": runs})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
