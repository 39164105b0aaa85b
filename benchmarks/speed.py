"""Training and embedding speed of ``TJEPATransformer`` against the machine's own matmul peak.

One run measures, on a synthetic table shaped like Jannis (54 numerical features, batches of 512):

1. **Matmul peak.** ``torch.mm`` of two ``n x n`` matrices (``--matmul-size``, default 2048) in
   fp32 and bf16: warm-up, then the best of several repeats, as GFLOP/s (``2 n^3`` per product),
   with ``torch.get_num_threads()``. This is the machine's dense compute ceiling in this run.
2. **Our loop.** ``TJEPATransformer.fit`` at each architecture (``defaults``: the estimator's
   defaults with batch 512; ``tuned``: the paper's jannis size, 16 encoder layers of width 64 with
   2 heads and feed-forward 64, a transformer predictor of 16 layers, width 16, 4 heads,
   feed-forward 256, 4 target sets, dropout 0.002, linear numerical embeddings) in fp32 and under
   ``precision="bf16"``; ``--configs tuned_nodropout`` adds the tuned size with dropout 0 (on the CPU,
   attention with dropout leaves the fused kernel and dropout masks dominate). Throughput is ``history_``'s samples per second of every epoch after the
   first (the first is the warm-up); the per-epoch time covers the optimisation steps only, not the
   collapse monitor that follows each epoch.
3. **A plain reference loop** written here in a few lines, for the same model
   (``sklearn_tjepa.model.build_student`` / ``make_target_encoder`` on the fitted estimator's
   ``model_spec_``), the same rows, batch and ``MaskSampler`` (``MaskSampler.from_config``) with
   the estimator's own mask streams (``sklearn_tjepa.training.rng.RandomStreams``), so both loops
   draw the same mask sizes step by step (the work of a step grows with the drawn context and
   target sizes): per step, sample the masks; compute the package's objective
   (``sklearn_tjepa.model.jepa_loss``: targets from the target encoder under ``torch.no_grad()``,
   normalised as the estimator's default ``target_norm="batch"``, student, MSE loss);
   ``zero_grad``, ``backward``, ``torch.optim.AdamW(student.parameters(), lr=1e-3)`` step; then the
   EMA update of the target encoder as a Python ``for`` loop over parameter pairs
   (``p_t.mul_(m).add_(p_s, alpha=1 - m)``). No schedules, no parameter groups, no history, no
   monitoring. Under bf16 the two forward passes run in ``torch.autocast(dtype=torch.bfloat16)``.
   The difference between 2 and 3 is the overhead of our loop.
4. **Model FLOPs.** ``torch.utils.flop_counter.FlopCounterMode`` over training steps of the plain
   loop (forward and backward of the student, forward of the target encoder), one per timed step
   with that step's mask sizes, on 32 rows (FLOPs are linear in the batch), averaged per sample. Achieved FLOP/s is that times samples/s, reported as a share of the fp32 (or
   bf16) matmul peak. The counter counts matrix products (``mm``, ``bmm``, ``addmm``, attention);
   elementwise work, norms and the optimiser are not counted, as in the usual "model FLOPs".
   PyTorch's counter does not know the CPU flash-attention kernels, so they are added here with
   its own attention formulas.
5. **Transform.** Rows per second of ``transform`` (``output="flatten"``) on ``--transform-rows``
   rows (default 10,000), after a warm-up call, for both architectures.

Each measurement of 2, 3 and 5 runs in a fresh Python process (unless ``--in-process``) and reports
its peak memory: the process's peak resident set during the measurement
(:func:`sklearn_tjepa.training.monitoring.peak_memory`; ``peak_memory_scope`` is ``"process"``
where the peak cannot be reset, and the figure is then the process's peak so far, which is why
each measurement gets its own process); the resident set right after the imports is reported
beside it.

Timings on a small machine mean something only when nothing else runs: check ``uptime`` first.

Usage::

    python benchmarks/speed.py --name cpu2                 # full run, ~6 minutes on 2 cores
    python benchmarks/speed.py --quick --name smoke        # tiny sizes, seconds; for the test
    python benchmarks/speed.py --configs tuned --precisions 32 --name tuned_fp32

Writes ``results/speed/<name>.json`` (``--out`` to change the folder) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.utils import check_random_state

from sklearn_tjepa.model import MaskSampler, jepa_loss
from sklearn_tjepa.training.monitoring import peak_memory, resident_memory_mb
from sklearn_tjepa.training.rng import RandomStreams

N_FEATURES = 54  # Jannis: 54 numerical features

#: Architectures measured. ``defaults`` keeps every estimator default except the batch size.
CONFIGS = {
    "defaults": {"batch_size": 512},
    "tuned": {
        "batch_size": 512,
        "d_model": 64,
        "n_layers": 16,
        "n_heads": 2,
        "ffn_dim": 64,
        "dropout": 0.002,
        "numerical_embedding": "linear",
        "predictor": "transformer",
        "predictor_d_model": 16,
        "predictor_n_layers": 16,
        "predictor_n_heads": 4,
        "predictor_ffn_dim": 256,
        "n_target_sets": 4,
    },
}
#: The tuned size without dropout: on the CPU, attention with dropout leaves the fused kernel.
CONFIGS["tuned_nodropout"] = {**CONFIGS["tuned"], "dropout": 0.0}
DEFAULT_CONFIGS = ["defaults", "tuned"]

#: Tiny architecture for ``--quick`` (smoke test of the script, not a measurement).
QUICK_CONFIG = {
    "batch_size": 32, "d_model": 8, "n_layers": 1, "n_heads": 2, "ffn_dim": 16,
    "predictor_d_model": 8, "predictor_n_layers": 1, "predictor_n_heads": 2, "predictor_ffn_dim": 16,
}


def synthetic_table(n_rows: int, seed: int = 0) -> np.ndarray:
    """Correlated numerical features shaped like Jannis: ``(n_rows, 54)`` float64."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_rows, 8))
    mixing = rng.normal(size=(8, N_FEATURES))
    return latent @ mixing + 0.5 * rng.normal(size=(n_rows, N_FEATURES))


# --------------------------------------------------------------------------------------------
# 1. matmul peak


def matmul_peak(size: int, dtype: torch.dtype, repeats: int = 5, min_seconds: float = 0.2) -> dict:
    """Best-of-``repeats`` GFLOP/s of ``torch.mm`` on ``size x size`` matrices."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    out = torch.empty(size, size, dtype=dtype)
    torch.mm(a, b, out=out)  # warm-up
    calls = 1
    started = time.perf_counter()
    torch.mm(a, b, out=out)
    once = time.perf_counter() - started
    calls = max(1, int(min_seconds / max(once, 1e-9)))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b, out=out)
        best = min(best, (time.perf_counter() - started) / calls)
    return {"size": size, "dtype": str(dtype).replace("torch.", ""), "seconds": best, "gflops": 2 * size**3 / best / 1e9}


# --------------------------------------------------------------------------------------------
# 2. our loop


def _estimator(config: dict, precision: str, max_epochs: int, seed: int = 0):
    from sklearn_tjepa import TJEPATransformer

    return TJEPATransformer(**config, precision=precision, max_epochs=max_epochs, device="cpu", random_state=seed)


def measure_ours(config: dict, precision: str, steps: int, epochs: int) -> dict:
    """Fit and read ``history_``: throughput of the epochs after the first."""
    X = synthetic_table(config["batch_size"] * steps)
    estimator = _estimator(config, precision, epochs)
    started = time.perf_counter()
    estimator.fit(X)
    fit_seconds = time.perf_counter() - started
    timed = estimator.history_[1:] or estimator.history_
    seconds = sum(r["seconds"] for r in timed)
    samples = sum(r["samples_per_second"] * r["seconds"] for r in timed)
    return {
        "rows": X.shape[0],
        "epochs": epochs,
        "timed_epochs": len(timed),
        "samples_per_second": samples / seconds,
        "samples_per_second_per_epoch": [r["samples_per_second"] for r in estimator.history_],
        "fit_seconds": fit_seconds,
        "n_parameters_encoder": sum(p.numel() for p in estimator.encoder_.parameters()),
    }


# --------------------------------------------------------------------------------------------
# 3. the plain reference loop, 4. FLOPs


def _plain_setup(config: dict, X: np.ndarray, seed: int = 0):
    from sklearn_tjepa.model import build_student, make_target_encoder

    estimator = _estimator(config, "32", max_epochs=0, seed=seed).fit(X)  # fitted preprocessing and ModelSpec only
    table = estimator.preprocessor_.transform(X)
    x_num = torch.from_numpy(np.ascontiguousarray(table.x_num))
    x_cat = torch.from_numpy(np.ascontiguousarray(table.x_cat))
    sampler = MaskSampler.from_config(estimator.n_features_in_, estimator)
    torch.manual_seed(seed)
    student = build_student(estimator.model_spec_)
    target_encoder = make_target_encoder(student.encoder)
    # the estimator's mask streams (the seed fit draws from random_state), so that both loops draw the same sizes
    streams = RandomStreams(int(check_random_state(seed).randint(np.iinfo(np.int32).max)))
    generators = (streams.torch("mask_sizes"), streams.torch("mask_positions"))
    return student, target_encoder, sampler, x_num, x_cat, generators


def _plain_loss(student, target_encoder, masks, num, cat, precision):
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    with autocast:
        return jepa_loss(student, target_encoder, num, cat, *masks, target_norm="batch")


def _plain_step(student, target_encoder, optimizer, sampler, num, cat, generators, precision, momentum=0.996):
    masks = sampler.sample(num.shape[0], size_generator=generators[0], index_generator=generators[1])
    loss = _plain_loss(student, target_encoder, masks, num, cat, precision)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for p_t, p_s in zip(target_encoder.parameters(), student.encoder.parameters()):
            p_t.mul_(momentum).add_(p_s, alpha=1 - momentum)
    return loss


def _sdpa_flop_mapping() -> dict:
    """FLOP formulas for the CPU attention kernels that PyTorch's counter does not know."""
    from torch.utils import flop_counter

    aten = torch.ops.aten
    mapping = {}
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu"):
        mapping[aten._scaled_dot_product_flash_attention_for_cpu] = (
            lambda q, k, v, *args, out_shape=None, **kwargs: flop_counter.sdpa_flop_count(q, k, v)
        )
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu_backward"):
        mapping[aten._scaled_dot_product_flash_attention_for_cpu_backward] = (
            lambda g, q, k, v, *args, out_shape=None, **kwargs: flop_counter.sdpa_backward_flop_count(g, q, k, v)
        )
    return mapping


def count_step_flops(student, target_encoder, sampler, num, cat, sizes) -> dict:
    """Matmul FLOPs per sample of fp32 training steps (student forward + backward, target forward).

    The work of a step depends on its drawn mask sizes, so one step is counted (on the rows
    ``num``, ``cat``; FLOPs scale linearly with the batch) for each ``(n_ctx, n_trgt)`` in
    ``sizes`` -- the sizes of the timed steps -- and the mean per sample is returned.
    """
    from torch.utils.flop_counter import FlopCounterMode

    student.zero_grad()
    positions = torch.Generator().manual_seed(0)
    with FlopCounterMode(display=False, custom_mapping=_sdpa_flop_mapping()) as counter:
        for n_ctx, n_trgt in sizes:
            masks = sampler.sample_with_sizes(num.shape[0], n_ctx, n_trgt, index_generator=positions)
            _plain_loss(student, target_encoder, masks, num, cat, "32").backward()
    student.zero_grad()
    total = counter.get_total_flops() / len(sizes)
    by_op = {str(op): int(n / len(sizes)) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return {"flops_per_sample": total / num.shape[0], "counted_batch": num.shape[0], "mask_sizes": sizes, "by_op_per_step": by_op}


def measure_plain(config: dict, precision: str, steps: int, epochs: int, count_flops: bool = True) -> dict:
    """The plain loop: one warm-up epoch, then ``epochs - 1`` timed epochs of ``steps`` steps."""
    batch = config["batch_size"]
    X = synthetic_table(batch * steps)
    student, target_encoder, sampler, x_num, x_cat, generators = _plain_setup(config, X)
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    order_generator = torch.Generator().manual_seed(1)
    seconds, seen, sizes = 0.0, 0, []
    for epoch in range(max(epochs, 2)):
        started = time.perf_counter()
        for index in torch.randperm(x_num.shape[0], generator=order_generator).split(batch):
            if epoch > 0:  # replay the size draw, to know the timed steps' mask sizes
                sizes.append(sampler.sample_sizes(torch.Generator().set_state(generators[0].get_state())))
            _plain_step(student, target_encoder, optimizer, sampler, x_num[index], x_cat[index], generators, precision)
        if epoch > 0:
            seconds += time.perf_counter() - started
            seen += x_num.shape[0]
    flops = count_step_flops(student, target_encoder, sampler, x_num[:32], x_cat[:32], sizes) if count_flops else None
    return {
        "rows": X.shape[0],
        "epochs": max(epochs, 2),
        "timed_epochs": max(epochs, 2) - 1,
        "samples_per_second": seen / seconds,
        "mask_sizes": sizes,
        "flops": flops,
    }


# --------------------------------------------------------------------------------------------
# 5. transform


def measure_transform(config: dict, precision: str, rows: int) -> dict:
    """Rows/s of ``transform`` of an (untrained: the speed is the same) estimator."""
    from torch.utils.flop_counter import FlopCounterMode

    X = synthetic_table(rows)
    estimator = _estimator(config, precision, max_epochs=0).fit(X[:2048])
    estimator.transform(X[:1024])  # warm-up
    with FlopCounterMode(display=False, custom_mapping=_sdpa_flop_mapping()) as counter:
        estimator.transform(X[:256])
    started = time.perf_counter()
    out = estimator.transform(X)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "n_features_out": out.shape[1],
        "flops_per_row": counter.get_total_flops() / 256,
    }


# --------------------------------------------------------------------------------------------
# driver

TASKS = {"ours": measure_ours, "plain": measure_plain, "transform": measure_transform}


def measure(task: dict) -> dict:
    """Run one measurement in this process; add the resident set at its start and its peak."""
    start = resident_memory_mb()
    with peak_memory() as memory:
        result = TASKS[task["kind"]](**task["kwargs"])
    result.update(rss_at_start_mb=start, peak_memory_mb=memory["peak_mb"], peak_memory_scope=memory["scope"])
    return result


def run_task(task: dict, in_process: bool) -> dict:
    """Run one measurement, in a fresh interpreter unless ``in_process``."""
    if in_process:
        return measure(task)
    completed = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--task", json.dumps(task)],
        capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"task {task} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _child(task_json: str) -> None:
    task = json.loads(task_json)
    print(json.dumps(measure(task)))


def _machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns the results dictionary that is also written as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="cpu")
    parser.add_argument("--out", default="results/speed")
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    parser.add_argument("--precisions", nargs="+", default=["32", "bf16"], choices=["32", "bf16"])
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps per epoch (default 4 defaults, 2 tuned)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit, the first not timed (default 3 fp32, 2 bf16)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--transform-rows", type=int, default=10_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["ours", "plain", "transform"])
    parser.add_argument(
        "--in-process", action="store_true", help="no child processes (peak memory cumulative where it cannot be reset)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, in process: a smoke test")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        _child(args.task)
        return {}

    configs = {name: CONFIGS[name] for name in args.configs}
    if args.quick:
        configs = {"quick": QUICK_CONFIG}
        args.matmul_size, args.transform_rows, args.epochs, args.in_process = 128, 1024, 2, True
        args.precisions = args.precisions[:1] if len(args.precisions) > 1 and "32" in args.precisions else args.precisions

    results = {"name": args.name, "machine": _machine(), "matmul": {}, "configs": {}}
    for dtype in (torch.float32, torch.bfloat16):
        peak = matmul_peak(args.matmul_size, dtype, repeats=2 if args.quick else 5)
        results["matmul"][peak["dtype"]] = peak
        print(f"matmul {peak['dtype']:>8} {args.matmul_size}x{args.matmul_size}: {peak['gflops']:8.1f} GFLOP/s "
              f"({torch.get_num_threads()} threads)", flush=True)
    peaks = {"32": results["matmul"]["float32"]["gflops"], "bf16": results["matmul"]["bfloat16"]["gflops"]}

    for name, config in configs.items():
        steps = args.steps or (2 if args.quick or name.startswith("tuned") else 4)
        entry = results["configs"].setdefault(name, {"params": config, "steps_per_epoch": steps})
        for precision in args.precisions:
            measured = entry.setdefault(precision, {})
            for kind in ("ours", "plain"):
                if kind in args.skip:
                    continue
                epochs = args.epochs or (3 if precision == "32" else 2)
                kwargs = {"config": config, "precision": precision, "steps": steps, "epochs": epochs}
                if kind == "plain":
                    kwargs["count_flops"] = precision == "32" or args.quick
                measured[kind] = run_task({"kind": kind, "kwargs": kwargs}, args.in_process)
                print(f"{name:>9} {precision:>4} {kind:>5}: {measured[kind]['samples_per_second']:8.1f} samples/s, "
                      f"peak {measured[kind]['peak_memory_mb']:7.0f} MiB", flush=True)
            if "transform" not in args.skip:
                measured["transform"] = run_task(
                    {"kind": "transform", "kwargs": {"config": config, "precision": precision, "rows": args.transform_rows}},
                    args.in_process,
                )
                print(f"{name:>9} {precision:>4} transform: {measured['transform']['rows_per_second']:8.0f} rows/s", flush=True)
        flops = next((entry[p]["plain"]["flops"] for p in entry if isinstance(entry[p], dict) and entry[p].get("plain", {}).get("flops")), None)
        if flops:
            entry["flops_per_sample"] = flops["flops_per_sample"]
            for precision in args.precisions:
                for kind in ("ours", "plain"):
                    if kind in entry[precision]:
                        achieved = flops["flops_per_sample"] * entry[precision][kind]["samples_per_second"]
                        entry[precision][kind]["gflops"] = achieved / 1e9
                        entry[precision][kind]["share_of_matmul_peak"] = achieved / 1e9 / peaks[precision]
                if "transform" in entry[precision]:
                    t = entry[precision]["transform"]
                    t["gflops"] = t["flops_per_row"] * t["rows_per_second"] / 1e9
                    t["share_of_matmul_peak"] = t["gflops"] / peaks[precision]

    results["machine"]["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    _print_table(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {out / (args.name + '.json')}")
    return results


def _print_table(results: dict) -> None:
    print(f"\n{'config':>9} {'prec':>4} {'loop':>9} {'samples/s':>10} {'peak MiB':>9} {'GFLOP/s':>8} {'% peak':>7}")
    for name, entry in results["configs"].items():
        for precision, measured in entry.items():
            if not isinstance(measured, dict) or precision == "params":
                continue
            for kind, m in measured.items():
                rate = m.get("samples_per_second", m.get("rows_per_second"))
                share = m.get("share_of_matmul_peak")
                print(f"{name:>9} {precision:>4} {kind:>9} {rate:10.1f} {m['peak_memory_mb']:9.0f} "
                      f"{m.get('gflops', float('nan')):8.2f} {'' if share is None else f'{100 * share:6.1f}%':>7}")


if __name__ == "__main__":
    main()
