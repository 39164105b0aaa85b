"""GPU check of ``TJEPATransformer``: speed against the GPU's matmul peak, torchrun, and a GPU model on a CPU.

One run, under 8 minutes on one H100/H200-class GPU, at the paper's tuned size for jannis
(``speed.CONFIGS["tuned"]``: 16 encoder layers of width 64, 2 heads, feed-forward 64, dropout
0.0019; a transformer predictor of 16 layers, width 16, 4 heads, feed-forward 256; 4 target sets;
batch 512) on a synthetic table of 54 numerical features (``speed.synthetic_table``):

1. ``environment``: torch, CUDA, the GPU, native bf16 on the GPU and on the CPU.
2. ``matmul``: ``torch.mm`` of two ``n x n`` matrices (``--matmul-size``, default 8192) in fp32
   (TF32 off), TF32 and bf16, timed with CUDA events, best of 3 repeats, in TFLOP/s.
3. ``flops``: model FLOPs per training sample (mean over mask sizes drawn as the estimator draws
   them) and per embedded row, counted on the CPU with ``speed.training_flops_per_sample`` and
   ``speed.transform_flops_per_row`` (matrix products only).
4. ``fit``: ``fit`` on ``--rows`` rows (default 20,000) for ``--epochs`` epochs (default 3, the
   first a warm-up) with ``device="cuda"``, in fp32 (``precision="32"``) and bf16: samples/s of
   the epochs after the first (``history_``), peak GPU memory, and achieved TFLOP/s as a share of
   the matmul peak of that precision (fp32 against the fp32 peak without TF32).
5. ``cpu_load``: the fp32 model of 4 pickled with joblib, loaded in a subprocess with
   ``CUDA_VISIBLE_DEVICES=""`` and transforming there: the embeddings must equal the GPU's
   (float32 on both sides: ``assert_allclose(rtol=1e-4, atol=1e-4)``), and the largest absolute
   difference is reported, also with ``precision="auto"`` on both sides (not asserted).
6. ``transform``: rows/s of ``transform`` (``output="flatten"`` and ``"mean"``) on
   ``--transform-rows`` rows (default 100,000) after a warm-up, in fp32 and bf16, with the share
   of the peak.
7. ``torchrun``: the same fit with ``backend="torchrun"`` (NCCL, 1 process), precision "auto".

Each section runs under ``try``/``except`` with its own time limit, so one failure still reports
the rest; a global budget (``--budget-s``, default 450) skips what would not fit. Prints a table and
writes JSON to ``--out`` (default ``./gpu_check.json``). Exits 0 when every section passed, 1 when
one failed or was skipped, 2 without CUDA. ``--dry-run`` runs every section on the CPU with tiny
sizes, in seconds, to check the code.

Usage::

    python benchmarks/gpu_check.py --out gpu_check.json
    python benchmarks/gpu_check.py --dry-run --out /tmp/gpu_check_dry.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the working tree's package, also when it is not installed (and for the subprocesses)
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

import numpy as np  # noqa: E402
import torch  # noqa: E402

import speed  # noqa: E402  (benchmarks/speed.py, beside this file)
from sklearn_tjepa.precision import resolve_precision  # noqa: E402

#: Tiny sizes of ``--dry-run`` (on the CPU): a check of the code paths, not a measurement.
DRY_CONFIG = dict(speed.QUICK_CONFIG, dropout=0.0019, n_target_sets=4)

#: Seconds each section may take at most (the global budget may cut them shorter).
SECTION_LIMITS = {
    "environment": 30, "matmul": 60, "flops": 90, "fit": 200, "cpu_load": 120, "transform": 90, "torchrun": 120,
}

_CHILD = r"""
import json, sys, warnings
import joblib, numpy as np, torch
from sklearn_tjepa.precision import resolve_precision
model, rows, out, precision = sys.argv[1:]
estimator = joblib.load(model).set_params(precision=precision)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    embeddings = estimator.transform(np.load(rows))
np.save(out, embeddings)
print(json.dumps({
    "cuda_available": torch.cuda.is_available(),
    "precision": resolve_precision(precision, torch.device("cpu")),
    "warnings": sorted({str(w.message)[:120] for w in caught}),
}))
"""


class SectionTimeout(Exception):
    """A section ran past its time limit."""


def _on_alarm(signum, frame):
    raise SectionTimeout("ran past its time limit")


class Check:
    """Runs the sections, keeps their results, timings and errors, and the global time budget."""

    def __init__(self, budget_s: float):
        self.started = time.perf_counter()
        self.budget_s = budget_s
        self.sections: dict[str, dict] = {}

    def remaining(self) -> float:
        return self.budget_s - (time.perf_counter() - self.started)

    def run(self, name: str, function, *args):
        limit = min(SECTION_LIMITS[name], self.remaining())
        if limit < 5:
            self.sections[name] = {"status": "skipped", "seconds": 0.0, "error": "global time budget spent"}
            print(f"[{name}] skipped: global time budget spent", flush=True)
            return None
        print(f"[{name}] running (limit {limit:.0f} s)", flush=True)
        started = time.perf_counter()
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(max(1, int(limit)))
        try:
            result = function(*args)
            entry = {"status": "ok", "result": result}
        except Exception as error:  # every failure is reported, the other sections still run
            entry = {"status": "failed", "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
            print(f"[{name}] FAILED: {entry['error']}", flush=True)
            result = None
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        entry["seconds"] = time.perf_counter() - started
        self.sections[name] = entry
        print(f"[{name}] {entry['status']} in {entry['seconds']:.1f} s", flush=True)
        return result


# ------------------------------------------------------------------------------------ sections


def environment(device: torch.device) -> dict:
    from sklearn_tjepa.precision import native_bf16

    info = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": str(device),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "native_bf16_cpu": native_bf16(torch.device("cpu")),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            gpu=props.name,
            capability=f"{props.major}.{props.minor}",
            gpu_memory_gb=props.total_memory / 2**30,
            native_bf16_gpu=native_bf16(device),
        )
    return info


def _gpu_matmul_tflops(device, dtype, size: int, tf32: bool, repeats: int = 3, iterations: int = 10) -> float:
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        out = torch.empty(size, size, device=device, dtype=dtype)
        for _ in range(3):
            torch.mm(a, b, out=out)
        torch.cuda.synchronize(device)
        best = float("inf")
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iterations):
                torch.mm(a, b, out=out)
            end.record()
            end.synchronize()
            best = min(best, start.elapsed_time(end) / 1e3 / iterations)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved
    return 2 * size**3 / best / 1e12


def matmul(device: torch.device, size: int) -> dict:
    """TFLOP/s of fp32 (no TF32), TF32 and bf16 ``torch.mm`` on ``device``."""
    if device.type != "cuda":  # --dry-run
        return {name: speed.matmul_peak(size, dtype, repeats=2, min_seconds=0.01)["gflops"] / 1e3
                for name, dtype in (("fp32", torch.float32), ("tf32", torch.float32), ("bf16", torch.bfloat16))}
    return {
        "size": size,
        "fp32": _gpu_matmul_tflops(device, torch.float32, size, tf32=False),
        "tf32": _gpu_matmul_tflops(device, torch.float32, size, tf32=True),
        "bf16": _gpu_matmul_tflops(device, torch.bfloat16, size, tf32=False),
    }


def flops(config: dict, X: np.ndarray) -> dict:
    """Model FLOPs per training sample and per embedded row (counted on the CPU)."""
    training = speed.training_flops_per_sample(config)
    estimator = speed._estimator(config, "32", max_epochs=0).fit(X[:2048])
    return {
        "training_flops_per_sample": training["flops_per_sample"],
        "mask_sizes": training["mask_sizes"],
        "transform_flops_per_row": {
            output: speed.transform_flops_per_row(estimator.set_params(output=output), X) for output in ("flatten", "mean")
        },
    }


def _tuned(config: dict, device: torch.device, precision: str, epochs: int, **extra):
    from sklearn_tjepa import TJEPATransformer

    return TJEPATransformer(**config, precision=precision, max_epochs=epochs, device=str(device), random_state=0, **extra)


def _throughput(estimator) -> dict:
    timed = estimator.history_[1:] or estimator.history_
    seconds = sum(r["seconds"] for r in timed)
    return {
        "samples_per_second": sum(r["samples_per_second"] * r["seconds"] for r in timed) / seconds,
        "samples_per_second_per_epoch": [r["samples_per_second"] for r in estimator.history_],
        "peak_memory_mb": max(r.get("peak_memory_mb", r.get("process_peak_memory_mb", 0.0)) for r in estimator.history_),
        "precision": estimator.precision_,
        "recompute": estimator.recompute_,
        "timed_epochs": len(timed),
    }


def fit(config, device, X, epochs, precisions, peaks, flop_counts, fitted: dict) -> dict:
    """Fit per precision; keeps the fitted estimators in ``fitted`` for the later sections."""
    results = {}
    for precision in precisions:
        started = time.perf_counter()
        estimator = _tuned(config, device, precision, epochs).fit(X)
        fitted[precision] = estimator
        result = _throughput(estimator)
        result["fit_seconds"] = time.perf_counter() - started
        _add_share(result, "samples_per_second", flop_counts and flop_counts["training_flops_per_sample"], peaks)
        results[precision] = result
        print(f"  fit {precision:>4}: {result['samples_per_second']:10.0f} samples/s, peak {result['peak_memory_mb']:8.0f} MiB"
              f"{_share_text(result)}", flush=True)
    return results


def _add_share(result: dict, rate_key: str, flops_per_item, peaks) -> None:
    if not flops_per_item or not peaks:
        return
    result["tflops"] = flops_per_item * result[rate_key] / 1e12
    peak = peaks["bf16" if result["precision"] == "bf16" else "fp32"]
    result["share_of_matmul_peak"] = result["tflops"] / peak


def _share_text(result: dict) -> str:
    if "share_of_matmul_peak" not in result:
        return ""
    return f", {result['tflops']:.2f} TFLOP/s = {100 * result['share_of_matmul_peak']:.1f}% of the matmul peak"


def transform(config, device, rows: int, precisions, peaks, flop_counts) -> dict:
    """Rows/s of transform per output and precision (untrained encoder: the speed is the same)."""
    X = speed.synthetic_table(rows, seed=1)
    results = {}
    for output in ("flatten", "mean"):
        estimator = _tuned(config, device, "32", 0, output=output).fit(X[:2048])
        for precision in precisions:
            estimator.set_params(precision=precision).transform(X[:4096])  # warm-up
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            started = time.perf_counter()
            estimator.transform(X)
            seconds = time.perf_counter() - started
            result = {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds,
                      "precision": resolve_precision(precision, device)}
            counted = flop_counts and flop_counts["transform_flops_per_row"][output]
            _add_share(result, "rows_per_second", counted, peaks)
            results[f"{output}/{precision}"] = result
            print(f"  transform {output:>7} {precision:>4}: {result['rows_per_second']:10.0f} rows/s{_share_text(result)}", flush=True)
    return results


def torchrun(config, device, X, epochs, peaks, flop_counts) -> dict:
    """The same fit launched with backend="torchrun": one worker process (NCCL on a GPU)."""
    started = time.perf_counter()
    estimator = _tuned(config, device, "auto", epochs, backend="torchrun", n_procs=1).fit(X)
    result = _throughput(estimator)
    result["fit_seconds_with_launch"] = time.perf_counter() - started
    _add_share(result, "samples_per_second", flop_counts and flop_counts["training_flops_per_sample"], peaks)
    print(f"  torchrun: {result['samples_per_second']:10.0f} samples/s ({result['precision']}){_share_text(result)}", flush=True)
    return result


def cpu_load(estimator, rows: int, timeout: float) -> dict:
    """Pickle (joblib) a fitted model, load and transform it where CUDA is hidden, compare."""
    import joblib

    X = speed.synthetic_table(rows, seed=2)
    results = {}
    with tempfile.TemporaryDirectory(prefix="tjepa_gpu_check_") as folder:
        folder = Path(folder)
        joblib.dump(estimator, folder / "model.joblib")
        np.save(folder / "rows.npy", X)
        for precision in ("32", "auto"):
            here = estimator.set_params(precision=precision).transform(X)
            completed = subprocess.run(
                [sys.executable, "-c", _CHILD, str(folder / "model.joblib"), str(folder / "rows.npy"),
                 str(folder / f"cpu_{precision}.npy"), precision],
                capture_output=True, text=True, timeout=timeout, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
            )
            if completed.returncode != 0:
                raise RuntimeError(f"the CPU process failed:\n{completed.stderr[-3000:]}")
            child = json.loads(completed.stdout.strip().splitlines()[-1])
            there = np.load(folder / f"cpu_{precision}.npy")
            difference = float(np.max(np.abs(there - here)))
            results[precision] = {**child, "max_abs_difference": difference, "max_abs_embedding": float(np.max(np.abs(here)))}
            print(f"  loaded without CUDA, precision {precision}: max |cpu - {estimator.device}| = {difference:.3g} "
                  f"(CUDA visible there: {child['cuda_available']})", flush=True)
            if precision == "32":
                assert not child["cuda_available"], "CUDA_VISIBLE_DEVICES='' did not hide the GPU"
                np.testing.assert_allclose(there, here, rtol=1e-4, atol=1e-4)
    estimator.set_params(precision="32")
    return results


# ------------------------------------------------------------------------------------ report


def _table(sections: dict) -> str:
    lines = [f"{'section':<12} {'what':<22} {'value':>14} {'share of peak':>14}"]

    def add(section, what, value, share=None):
        lines.append(f"{section:<12} {what:<22} {value:>14} {'' if share is None else f'{100 * share:.1f}%':>14}")

    for name, entry in sections.items():
        if entry["status"] != "ok":
            add(name, entry["status"], f"{entry['seconds']:.0f} s")
            continue
        result = entry["result"]
        if name == "environment":
            add(name, "device", str(result.get("gpu", result["device"]))[:14])
            add(name, "native bf16 gpu/cpu", f"{result.get('native_bf16_gpu')}/{result['native_bf16_cpu']}")
        elif name == "matmul":
            for key in ("fp32", "tf32", "bf16"):
                add(name, f"{key} TFLOP/s", f"{result[key]:.3g}")
        elif name == "flops":
            add(name, "MFLOP / train sample", f"{result['training_flops_per_sample'] / 1e6:.1f}")
            for output, value in result["transform_flops_per_row"].items():
                add(name, f"MFLOP / row ({output})", f"{value / 1e6:.1f}")
        elif name == "fit":
            for precision, r in result.items():
                add(name, f"{precision} samples/s", f"{r['samples_per_second']:.0f}", r.get("share_of_matmul_peak"))
                add(name, f"{precision} peak MiB", f"{r['peak_memory_mb']:.0f}")
        elif name == "transform":
            for key, r in result.items():
                add(name, f"{key} rows/s", f"{r['rows_per_second']:.0f}", r.get("share_of_matmul_peak"))
        elif name == "torchrun":
            add(name, f"{result['precision']} samples/s", f"{result['samples_per_second']:.0f}", result.get("share_of_matmul_peak"))
        elif name == "cpu_load":
            for precision, r in result.items():
                add(name, f"{precision} max abs diff", f"{r['max_abs_difference']:.2e}")
        add(name, "section seconds", f"{entry['seconds']:.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="gpu_check.json")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit, the first a warm-up")
    parser.add_argument("--transform-rows", type=int, default=100_000)
    parser.add_argument("--check-rows", type=int, default=2_000, help="rows embedded on both sides in cpu_load")
    parser.add_argument("--matmul-size", type=int, default=8192)
    parser.add_argument("--budget-s", type=float, default=450.0)
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU: checks the code, measures nothing")
    args = parser.parse_args(argv)

    report = {"dry_run": args.dry_run, "args": vars(args)}
    if args.dry_run:
        device, config = torch.device("cpu"), DRY_CONFIG
        args.rows, args.epochs, args.transform_rows, args.check_rows, args.matmul_size = 256, 2, 512, 64, 128
    elif not torch.cuda.is_available():
        message = "gpu_check needs CUDA: torch.cuda.is_available() is False (use --dry-run to check the code on a CPU)"
        print(message, file=sys.stderr)
        Path(args.out).write_text(json.dumps({**report, "error": message}, indent=2))
        return 2
    else:
        device, config = torch.device("cuda"), speed.CONFIGS["tuned"]
    report["config"] = config

    check = Check(args.budget_s)
    X = speed.synthetic_table(args.rows)
    fitted: dict = {}
    check.run("environment", environment, device)
    peaks = check.run("matmul", matmul, device, args.matmul_size)
    flop_counts = check.run("flops", flops, config, X)
    check.run("fit", fit, config, device, X, args.epochs, ["32", "bf16"], peaks, flop_counts, fitted)
    if "32" in fitted:
        check.run("cpu_load", cpu_load, fitted["32"], args.check_rows, SECTION_LIMITS["cpu_load"] - 10)
    else:
        check.sections["cpu_load"] = {"status": "skipped", "seconds": 0.0, "error": "no fp32 model (the fit section failed)"}
    check.run("transform", transform, config, device, args.transform_rows, ["32", "bf16"], peaks, flop_counts)
    check.run("torchrun", torchrun, config, device, X, args.epochs, peaks, flop_counts)

    report["sections"] = check.sections
    report["total_seconds"] = time.perf_counter() - check.started
    print("\n" + _table(check.sections))
    print(f"\ntotal {report['total_seconds']:.0f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {out}")
    return 0 if all(entry["status"] == "ok" for entry in check.sections.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
