"""Memory and speed of T-JEPA on a table larger than memory, against the in-memory path.

On a Parquet table made by ``benchmarks/make_large_table.py`` (``--data``), with a small
configuration (``d_model=16``, one encoder and one predictor layer), it measures:

1. **fit from Parquet**, one epoch, on the whole table and on a slice of its first
   ``--peak-slice-rows`` rows (default 1,000,000): the peak resident set over the measurement
   (:func:`sklearn_tjepa.training.monitoring.peak_memory`) and rows per second (rows / wall time
   of the ``fit`` call, which includes the preprocessing sample and the collapse monitor; the
   history's ``samples_per_second`` counts the optimiser steps only and is reported beside it).
2. **transform_dataset** of the same table and slice to a Parquet file, with a model fitted
   beforehand in another process: peak resident set and rows per second.
3. **The in-memory path** on a slice of ``--speed-slice-rows`` rows (default 500,000):
   ``pandas.read_parquet`` then ``fit`` (one epoch) and ``transform``, against fit from Parquet
   and ``transform_dataset`` on the same slice: rows per second of each (and their peaks).
4. **partial_fit against fit**: ``--chunks`` chunks (default 20) of ``--chunk-rows`` rows
   (default 100,000) from the start of the table; ``partial_fit`` once per chunk
   (``partial_fit_rows`` = all of them, ``max_epochs=1``), and ``fit`` on the same rows in memory
   for one epoch (the same steps), both with the same seed; the JEPA loss of each on the
   following ``--valid-rows`` rows (default 50,000), given as ``eval_set`` to ``fit`` and to the
   last ``partial_fit`` call (the same fixed validation masks).

Each measurement of 1-3 runs in a fresh Python process (unless ``--in-process``), so that its
peak is its own; the resident set right after the imports is reported beside it. Timings mean
something only when nothing else runs on the machine: check ``uptime`` first.

Usage::

    python benchmarks/make_large_table.py --rows 10000000 --out data/large
    python benchmarks/streaming.py --data data/large --name cpu2
    python benchmarks/streaming.py --quick --name smoke        # a generated 4,000-row table, seconds
    python benchmarks/streaming.py --data data/large --name tds --speed-slice-rows 200000 \
        --skip full peak_slice partial_fit fit                 # transform_dataset against transform only

Writes ``<name>.json`` to a new folder, ``sklearn_tjepa_runs/streaming-<UTC time>`` under the
current directory (``--out DIR`` names another), and prints the results and the file's path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import pandas as pd
import pyarrow.parquet as pq
import torch
from _common import run_folder, versions

from sklearn_tjepa import TJEPATransformer, transform_dataset
from sklearn_tjepa.training.loop import iterations_per_epoch
from sklearn_tjepa.training.monitoring import peak_memory, resident_memory_mb

HERE = Path(__file__).resolve().parent
SMALL = dict(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, predictor_d_model=16, predictor_n_layers=1,
    predictor_n_heads=2, predictor_ffn_dim=32, max_epochs=1, device="cpu", random_state=0,
)


def _rows(path) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in _files(path))


def _files(path) -> list[Path]:
    path = Path(path)
    return sorted(p for p in path.rglob("*.parquet") if not p.name.startswith((".", "_"))) if path.is_dir() else [path]


def write_slice(source, n_rows: int, destination: Path) -> Path:
    """The first ``n_rows`` rows of ``source`` as one Parquet file, copied batch by batch."""
    if n_rows <= 0:
        raise ValueError(f"n_rows must be positive, got {n_rows=}")
    writer, left = None, n_rows
    try:
        for path in _files(source):
            with pq.ParquetFile(path) as reader:
                for batch in reader.iter_batches(batch_size=65_536):
                    batch = batch.slice(0, left)
                    writer = writer or pq.ParquetWriter(destination, batch.schema)
                    writer.write_batch(batch, row_group_size=100_000)
                    left -= batch.num_rows
                    if left <= 0:
                        return destination
        raise ValueError(f"{source} holds fewer than n_rows={n_rows} rows")
    finally:
        if writer is not None:
            writer.close()


def _estimator(params: dict) -> TJEPATransformer:
    return TJEPATransformer(**{**SMALL, **params})


# ---------------------------------------------------------------- measurements (one per process)


def measure_stream_fit(data: str, params: dict) -> dict:
    started = time.perf_counter()
    est = _estimator(params).fit(data)
    seconds = time.perf_counter() - started
    rows = _rows(data)
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds,
            "loop_samples_per_second": est.history_[0]["samples_per_second"], "loss": est.history_[0]["loss"]}


def measure_memory_fit(data: str, params: dict) -> dict:
    started = time.perf_counter()
    frame = pd.read_parquet(data)
    est = _estimator(params).fit(frame)
    seconds = time.perf_counter() - started
    return {"rows": len(frame), "seconds": seconds, "rows_per_second": len(frame) / seconds,
            "loop_samples_per_second": est.history_[0]["samples_per_second"], "loss": est.history_[0]["loss"]}


def measure_stream_transform(data: str, model: str, destination: str) -> dict:
    est = joblib.load(model)
    started = time.perf_counter()
    transform_dataset(est, data, destination)
    seconds = time.perf_counter() - started
    rows = _rows(data)
    Path(destination).unlink()
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}


def measure_memory_transform(data: str, model: str) -> dict:
    est = joblib.load(model)
    started = time.perf_counter()
    embeddings = est.transform(pd.read_parquet(data))
    seconds = time.perf_counter() - started
    return {"rows": len(embeddings), "seconds": seconds, "rows_per_second": len(embeddings) / seconds}


MEASUREMENTS = {
    "stream_fit": measure_stream_fit,
    "memory_fit": measure_memory_fit,
    "stream_transform": measure_stream_transform,
    "memory_transform": measure_memory_transform,
}


def _run(kind: str, in_process: bool, threads: int | None, **kwargs) -> dict:
    if in_process:
        with peak_memory() as memory:
            result = MEASUREMENTS[kind](**kwargs)
        return {**result, "peak_rss_mb": memory["peak_mb"], "peak_rss_scope": memory["scope"], "in_process": True}
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind, "--measure-args", json.dumps(kwargs)]
    if threads:
        command += ["--threads", str(threads)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _child(kind: str, arguments: str, threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
    after_imports = resident_memory_mb()
    with peak_memory() as memory:
        result = MEASUREMENTS[kind](**json.loads(arguments))
    print(json.dumps({**result, "peak_rss_mb": memory["peak_mb"], "peak_rss_scope": memory["scope"],
                      "rss_after_imports_mb": after_imports}))


# ---------------------------------------------------------------- partial_fit against fit


def partial_fit_against_fit(data, *, chunks: int, chunk_rows: int, valid_rows: int, params: dict) -> dict:
    frames, needed = [], chunks * chunk_rows + valid_rows
    for path in _files(data):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
            frames.append(batch.to_pandas())
            needed -= batch.num_rows
            if needed <= 0:
                break
        if needed <= 0:
            break
    rows = pd.concat(frames, ignore_index=True)
    train, valid = rows.iloc[: chunks * chunk_rows], rows.iloc[chunks * chunk_rows : chunks * chunk_rows + valid_rows]
    started = time.perf_counter()
    fitted = _estimator(params).fit(train, eval_set=valid)
    fit_seconds = time.perf_counter() - started
    incremental = _estimator({**params, "partial_fit_rows": len(train)})
    started = time.perf_counter()
    for number in range(chunks):
        last = number == chunks - 1
        incremental.partial_fit(train.iloc[number * chunk_rows : (number + 1) * chunk_rows], eval_set=valid if last else None)
    partial_seconds = time.perf_counter() - started
    return {
        "chunks": chunks, "chunk_rows": chunk_rows, "valid_rows": len(valid),
        "fit": {"valid_loss": fitted.history_[-1]["valid_loss"], "steps": iterations_per_epoch(len(train), fitted.batch_size),
                "seconds": fit_seconds},
        "partial_fit": {"valid_loss": incremental.history_[-1]["valid_loss"], "steps": incremental.n_steps_,
                        "seconds": partial_seconds},
    }


# ---------------------------------------------------------------- main


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="Parquet file or folder (from make_large_table.py)")
    parser.add_argument("--name", default="streaming")
    parser.add_argument("--out", default=None, help="results folder (default: a new one under ./sklearn_tjepa_runs)")
    parser.add_argument("--peak-slice-rows", type=int, default=1_000_000)
    parser.add_argument("--speed-slice-rows", type=int, default=500_000)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--valid-rows", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["full", "peak_slice", "speed_slice", "partial_fit", "fit"],
        help="tables or comparisons not to measure; fit: the fits, so only the transforms",
    )
    parser.add_argument("--in-process", action="store_true", help="measure in this process (peaks not separate)")
    parser.add_argument("--quick", action="store_true", help="a generated 4,000-row table and small slices")
    parser.add_argument("--measure", choices=sorted(MEASUREMENTS), help=argparse.SUPPRESS)
    parser.add_argument("--measure-args", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        _child(args.measure, args.measure_args, args.threads)
        return {}
    if args.threads:
        torch.set_num_threads(args.threads)
    params = {"batch_size": args.batch_size}
    with tempfile.TemporaryDirectory(prefix="tjepa-streaming-") as folder:
        folder = Path(folder)
        if args.quick:
            sys.path.insert(0, str(HERE))
            from make_large_table import main as make_table

            make_table(["--rows", "4000", "--files", "2", "--row-group-rows", "500", "--out", str(folder / "table")])
            args.data = str(folder / "table")
            args.peak_slice_rows, args.speed_slice_rows = 2000, 1000
            args.chunks, args.chunk_rows, args.valid_rows = 4, 500, 500
            params.update(preprocessing_sample_rows=1000, shuffle_buffer_rows=1024)
        if not args.data:
            parser.error("--data is required (or --quick)")
        n_rows = _rows(args.data)
        model = folder / "model.joblib"
        sample = pd.read_parquet(write_slice(args.data, min(n_rows, 20_000), folder / "sample.parquet"))
        joblib.dump(_estimator({**params, "max_epochs": 0}).fit(sample), model)
        results = {
            "name": args.name, "data": str(args.data), "rows": n_rows, "config": {**SMALL, **params},
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": args.threads or torch.get_num_threads()},
            "versions": versions(),
        }
        run = dict(in_process=args.in_process, threads=args.threads)
        targets = {"full": args.data}
        if "peak_slice" not in args.skip:
            targets["peak_slice"] = str(write_slice(args.data, args.peak_slice_rows, folder / "peak.parquet"))
        if "speed_slice" not in args.skip:
            targets["speed_slice"] = str(write_slice(args.data, args.speed_slice_rows, folder / "speed.parquet"))
        for label, data in targets.items():
            if label in args.skip:
                continue
            entry = {}
            if "fit" not in args.skip:
                entry["stream_fit"] = _run("stream_fit", data=data, params=params, **run)
            entry["stream_transform"] = _run(
                "stream_transform", data=data, model=str(model), destination=str(folder / "emb.parquet"), **run
            )
            if label == "speed_slice":
                if "fit" not in args.skip:
                    entry["memory_fit"] = _run("memory_fit", data=data, params=params, **run)
                entry["memory_transform"] = _run("memory_transform", data=data, model=str(model), **run)
            results[label] = entry
        if "partial_fit" not in args.skip:
            results["partial_fit_against_fit"] = partial_fit_against_fit(
                args.data, chunks=args.chunks, chunk_rows=args.chunk_rows, valid_rows=args.valid_rows, params=params
            )
    out = run_folder(args.out, "streaming") / f"{args.name}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")
    return results


if __name__ == "__main__":
    main()
