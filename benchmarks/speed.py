"""Training and embedding speed of ``TJEPATransformer`` against the machine's own matmul peak.

One run measures, on a synthetic table shaped like Jannis (54 numerical features, batches of 512):

1. **Matmul peak.** ``torch.mm`` of two ``n x n`` matrices (``--matmul-size``, default 2048) in
   fp32 and bf16: warm-up, then the best of several repeats, as GFLOP/s (``2 n^3`` per product),
   with ``torch.get_num_threads()``. This is the machine's dense compute ceiling in this run. The
   same is measured at the model's own matrix shapes (``MODEL_MATMUL_SHAPES``: a width-64
   projection over 512 rows of 55 tokens, its feed-forward, ...), where the bf16 gain differs.
2. **Our loop.** ``TJEPATransformer.fit`` at each architecture (``defaults``: the estimator's
   defaults with batch 512; ``tuned``: the paper's jannis size, 16 encoder layers of width 64 with
   2 heads and feed-forward 64, a transformer predictor of 16 layers, width 16, 4 heads,
   feed-forward 256, 4 target sets, dropout 0.0019, linear numerical embeddings) under each
   ``--precision`` (``32``, ``bf16``, or ``auto``: what the estimator picks on this CPU) and
   ``--recompute`` (default ``auto``, the estimator's default); ``--configs tuned_nodropout`` adds
   the tuned size with dropout 0. Throughput is ``history_``'s samples per second of every epoch
   after the first (the first is the warm-up); the per-epoch time covers the optimisation steps
   only, not the collapse monitor that follows each epoch. The precision and recompute the
   estimator resolved are recorded.
3. **A plain reference loop** written here in a few lines, for the same model
   (``sklearn_tjepa.model.build_student`` / ``make_target_encoder`` on the fitted estimator's
   ``model_spec_``, with the same resolved ``recompute``), the same rows, batch and
   ``MaskSampler`` (``MaskSampler.from_config``) with the estimator's own mask and missing-input
   streams (``sklearn_tjepa.training.rng.RandomStreams``), so both loops draw the same mask sizes
   step by step (the work of a step grows with the drawn context and target sizes): per step,
   sample the masks; compute the package's objective (``sklearn_tjepa.model.jepa_loss`` with the
   estimator's ``target_norm`` and ``missing_share``: targets from the target encoder under
   ``torch.no_grad()``, a share of the student's inputs hidden as missing, student, MSE loss);
   ``zero_grad``, ``backward``, ``torch.optim.AdamW(student.parameters(), lr=1e-3)`` step; then the
   EMA update of the target encoder as a Python ``for`` loop over parameter pairs
   (``p_t.mul_(m).add_(p_s, alpha=1 - m)``). No schedules, no parameter groups, no history, no
   monitoring. Under bf16 the forward passes run in ``torch.autocast(dtype=torch.bfloat16)``.
   The difference between 2 and 3 is the overhead of our loop.
4. **Model FLOPs.** ``torch.utils.flop_counter.FlopCounterMode`` over training steps of the plain
   loop (forward and backward of the student, forward of the target encoder), one per timed step
   with that step's mask sizes, on 32 rows (FLOPs are linear in the batch), averaged per sample.
   Achieved FLOP/s is that times samples/s, reported as a share of the matmul peak of the
   precision used. The counter counts matrix products (``mm``, ``bmm``, ``addmm``, attention);
   elementwise work, norms and the optimiser are not counted, as in the usual "model FLOPs".
   PyTorch's counter does not know the CPU flash-attention kernels, so they are added here with
   its own attention formulas.
5. **Transform.** Rows per second of ``transform`` (``output="flatten"``) on ``--transform-rows``
   rows (default 10,000), after a warm-up call, for each architecture and precision.

Each measurement of 2, 3 and 5 runs in a fresh Python process (unless ``--in-process``) and reports
its peak memory: the process's peak resident set during the measurement
(:func:`sklearn_tjepa.training.monitoring.peak_memory`; ``peak_memory_scope`` is ``"process"``
where the peak cannot be reset, and the figure is then the process's peak so far, which is why
each measurement gets its own process); the resident set right after the imports is reported
beside it.

Two further modes replace the run above:

- ``--attention-profile``: milliseconds per call of attention at the model's shapes and head
  widths (4, 8, 16 and 32 per head; ``ATTENTION_CASES``), forward and forward plus backward, in
  fp32 and under bf16 autocast, for each implementation (``ATTENTION_PATHS``): PyTorch's
  ``scaled_dot_product_attention`` (fused kernel), explicit ``softmax(q k^T) v``, SDPA in fp32
  inside the bf16 autocast, and with dropout on the weights: SDPA's ``dropout_p``, the package's
  fused path with a sparse correction (``sklearn_tjepa.model.attention``), and explicit softmax
  with ``F.dropout``. Same inputs for every path (``q, k, v`` as views of one projection output,
  as in the model).
- ``--scaling``: ``fit`` (``--scaling-epochs`` epochs, default 2) and ``transform``
  (``output="mean"``) on ``--scaling-rows`` rows (default 10k, 100k and 1M), each in a fresh
  process: wall seconds and peak resident memory per size, written as JSON and plotted (PNG,
  ``--plot``), to check that both grow linearly with the rows.

Timings mean something only when nothing else runs: check ``uptime`` first, and pause other jobs.

Usage::

    python benchmarks/speed.py --name cpu                  # both configs, fp32 and bf16
    python benchmarks/speed.py --configs tuned --precision auto --name tuned_auto
    python benchmarks/speed.py --attention-profile --name attention
    python benchmarks/speed.py --scaling --name scaling --plot docs/performance_scaling.png
    python benchmarks/speed.py --quick --name smoke        # tiny sizes, seconds; for the test

Writes ``<name>.json`` to a new folder, ``sklearn_tjepa_runs/speed-<UTC time>`` under the current
directory (``--out DIR`` names another), prints a table and the file's path.
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
from _common import run_folder
from sklearn.utils import check_random_state

from sklearn_tjepa.model import MaskSampler, jepa_loss
from sklearn_tjepa.training.monitoring import peak_memory, resident_memory_mb
from sklearn_tjepa.precision import autocast_for, resolve_precision
from sklearn_tjepa.training.memory import resolve_recompute
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
        "dropout": 0.0019,
        "numerical_embedding": "linear",
        "predictor": "transformer",
        "predictor_d_model": 16,
        "predictor_n_layers": 16,
        "predictor_n_heads": 4,
        "predictor_ffn_dim": 256,
        "n_target_sets": 4,
    },
}
#: The tuned size without dropout, to see what dropout costs.
CONFIGS["tuned_nodropout"] = {**CONFIGS["tuned"], "dropout": 0.0}
DEFAULT_CONFIGS = ["defaults", "tuned"]

#: Tiny architecture for ``--quick`` (smoke test of the script, not a measurement).
QUICK_CONFIG = {
    "batch_size": 32, "d_model": 8, "n_layers": 1, "n_heads": 2, "ffn_dim": 16,
    "predictor_d_model": 8, "predictor_n_layers": 1, "predictor_n_heads": 2, "predictor_ffn_dim": 16,
}

#: ``(m, k, n)`` of the model's matrix products at batch 512 and 54 features: a width-64 projection
#: over 512 rows x 55 tokens, the feed-forward of width 256 over the same tokens, a square product,
#: and a flattened 15-token context (960 = 15 x 64) into 256 units.
MODEL_MATMUL_SHAPES = [(512, 512, 512), (28160, 64, 64), (28160, 64, 256), (512, 960, 256)]
QUICK_MATMUL_SHAPES = [(64, 16, 16)]

#: Attention at the model's shapes: (name, sequences, heads, tokens, width per head), at batch 512
#: with 54 features: the context encoder sees the largest context (20 features) and a CLS token;
#: the predictor runs context, targets (34) and CLS, 55 tokens, for each of the 4 target sets.
ATTENTION_CASES = [
    ("tuned encoder", 512, 2, 21, 32),
    ("defaults encoder", 512, 4, 21, 16),
    ("defaults predictor", 4 * 512, 4, 55, 8),
    ("tuned predictor", 4 * 512, 4, 55, 4),
]
QUICK_ATTENTION_CASES = [("quick", 8, 2, 5, 4)]


def synthetic_table(n_rows: int, seed: int = 0, block: int = 100_000) -> np.ndarray:
    """Correlated numerical features shaped like Jannis: ``(n_rows, 54)`` float64.

    Generated ``block`` rows at a time into the result, so that making the table takes little
    memory beyond the table itself (the peak memory of a measurement is then its own).
    """
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(8, N_FEATURES))
    table = np.empty((n_rows, N_FEATURES))
    for start in range(0, n_rows, block):
        rows = min(block, n_rows - start)
        table[start : start + rows] = rng.normal(size=(rows, 8)) @ mixing
        table[start : start + rows] += 0.5 * rng.normal(size=(rows, N_FEATURES))
    return table


def _cpu_precision(precision: str) -> str:
    """``precision`` resolved on the CPU as the estimator resolves it ("32" or "bf16")."""
    return resolve_precision(precision, torch.device("cpu"))


# --------------------------------------------------------------------------------------------
# 1. matmul peak


def _best_seconds(call, repeats: int = 5, min_seconds: float = 0.2) -> float:
    """Best over ``repeats`` of the mean seconds per call, each repeat at least ``min_seconds`` long."""
    call()  # warm-up
    started = time.perf_counter()
    call()
    once = time.perf_counter() - started
    calls = max(1, int(min_seconds / max(once, 1e-9)))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def matmul_rate(m: int, k: int, n: int, dtype: torch.dtype, repeats: int = 5, min_seconds: float = 0.2) -> dict:
    """Best-of-``repeats`` GFLOP/s of ``torch.mm`` of an ``m x k`` by a ``k x n`` matrix."""
    a = torch.randn(m, k).to(dtype)
    b = torch.randn(k, n).to(dtype)
    out = torch.empty(m, n, dtype=dtype)
    seconds = _best_seconds(lambda: torch.mm(a, b, out=out), repeats, min_seconds)
    return {"shape": [m, k, n], "dtype": str(dtype).replace("torch.", ""), "seconds": seconds, "gflops": 2 * m * k * n / seconds / 1e9}


def matmul_peak(size: int, dtype: torch.dtype, repeats: int = 5, min_seconds: float = 0.2) -> dict:
    """Best-of-``repeats`` GFLOP/s of ``torch.mm`` on ``size x size`` matrices."""
    return {"size": size, **matmul_rate(size, size, size, dtype, repeats, min_seconds)}


# --------------------------------------------------------------------------------------------
# 2. our loop


def _estimator(config: dict, precision: str, max_epochs: int, seed: int = 0, recompute="auto"):
    from sklearn_tjepa import TJEPATransformer

    return TJEPATransformer(
        **config, precision=precision, recompute=recompute, max_epochs=max_epochs, device="cpu", random_state=seed
    )


def measure_ours(config: dict, precision: str, steps: int, epochs: int, recompute="auto") -> dict:
    """Fit and read ``history_``: throughput of the epochs after the first."""
    X = synthetic_table(config["batch_size"] * steps)
    estimator = _estimator(config, precision, epochs, recompute=recompute)
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
        "precision": estimator.precision_,
        "recompute": estimator.recompute_,
        "samples_per_second": samples / seconds,
        "samples_per_second_per_epoch": [r["samples_per_second"] for r in estimator.history_],
        "fit_seconds": fit_seconds,
        "n_parameters_encoder": sum(p.numel() for p in estimator.encoder_.parameters()),
    }


# --------------------------------------------------------------------------------------------
# 3. the plain reference loop, 4. FLOPs


def _plain_setup(config: dict, X: np.ndarray, recompute="auto", seed: int = 0):
    """Model, rows, sampler and the estimator's streams for the plain loop.

    Returns the student (built with the estimator's resolved ``recompute``), the target
    encoder, the sampler, the encoded rows, the generators (mask sizes, mask positions, missing
    inputs) and the estimator (for its ``missing_share`` and ``target_norm``).
    """
    from sklearn_tjepa.model import build_student, make_target_encoder

    estimator = _estimator(config, "32", max_epochs=0, seed=seed).fit(X)  # fitted preprocessing and ModelSpec only
    table = estimator.preprocessor_.transform(X)
    x_num = torch.from_numpy(np.ascontiguousarray(table.x_num))
    x_cat = torch.from_numpy(np.ascontiguousarray(table.x_cat))
    sampler = MaskSampler.from_config(estimator.n_features_in_, estimator)
    torch.manual_seed(seed)
    recompute = resolve_recompute(recompute, estimator.model_spec_, estimator, torch.device("cpu"))
    student = build_student(estimator.model_spec_, recompute=recompute)
    target_encoder = make_target_encoder(student.encoder)
    # the estimator's streams (the seed fit draws from random_state), so that both loops draw the same sizes
    streams = RandomStreams(int(check_random_state(seed).randint(np.iinfo(np.int32).max)))
    generators = (streams.torch("mask_sizes"), streams.torch("mask_positions"), streams.torch("missing_inputs"))
    return student, target_encoder, sampler, x_num, x_cat, generators, estimator


def _plain_loss(student, target_encoder, masks, num, cat, precision, estimator, missing_generator):
    with autocast_for(torch.device("cpu"), precision):
        return jepa_loss(
            student, target_encoder, num, cat, *masks,
            target_norm=estimator.target_norm,
            missing_share=estimator.missing_share,
            missing_generator=missing_generator,
        )


def _plain_step(student, target_encoder, optimizer, sampler, num, cat, generators, precision, estimator, momentum=0.996):
    masks = sampler.sample(num.shape[0], size_generator=generators[0], index_generator=generators[1])
    loss = _plain_loss(student, target_encoder, masks, num, cat, precision, estimator, generators[2])
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


def count_step_flops(student, target_encoder, sampler, num, cat, sizes, estimator) -> dict:
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
            _plain_loss(student, target_encoder, masks, num, cat, "32", estimator, positions).backward()
    student.zero_grad()
    total = counter.get_total_flops() / len(sizes)
    by_op = {str(op): int(n / len(sizes)) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return {"flops_per_sample": total / num.shape[0], "counted_batch": num.shape[0], "mask_sizes": sizes, "by_op_per_step": by_op}


def training_flops_per_sample(config: dict, draws: int = 8) -> dict:
    """Matmul FLOPs per training sample at ``config`` (:func:`count_step_flops`), averaged over
    ``draws`` mask sizes drawn from the estimator's own size stream (counted on the CPU)."""
    X = synthetic_table(max(64, config["batch_size"]))
    student, target_encoder, sampler, x_num, x_cat, generators, estimator = _plain_setup(config, X, recompute=False)
    sizes = [sampler.sample_sizes(generators[0]) for _ in range(draws)]
    return count_step_flops(student, target_encoder, sampler, x_num[:32], x_cat[:32], sizes, estimator)


def measure_plain(config: dict, precision: str, steps: int, epochs: int, count_flops: bool = True, recompute="auto") -> dict:
    """The plain loop: one warm-up epoch, then ``epochs - 1`` timed epochs of ``steps`` steps."""
    batch = config["batch_size"]
    X = synthetic_table(batch * steps)
    student, target_encoder, sampler, x_num, x_cat, generators, estimator = _plain_setup(config, X, recompute)
    resolved = _cpu_precision(precision)
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    order_generator = torch.Generator().manual_seed(1)
    seconds, seen, sizes = 0.0, 0, []
    for epoch in range(max(epochs, 2)):
        started = time.perf_counter()
        for index in torch.randperm(x_num.shape[0], generator=order_generator).split(batch):
            if epoch > 0:  # replay the size draw, to know the timed steps' mask sizes
                sizes.append(sampler.sample_sizes(torch.Generator().set_state(generators[0].get_state())))
            _plain_step(student, target_encoder, optimizer, sampler, x_num[index], x_cat[index], generators, resolved, estimator)
        if epoch > 0:
            seconds += time.perf_counter() - started
            seen += x_num.shape[0]
    flops = count_step_flops(student, target_encoder, sampler, x_num[:32], x_cat[:32], sizes, estimator) if count_flops else None
    return {
        "rows": X.shape[0],
        "epochs": max(epochs, 2),
        "timed_epochs": max(epochs, 2) - 1,
        "precision": resolved,
        "recompute": student.encoder.transformer.recompute,
        "missing_share": estimator.missing_share,
        "samples_per_second": seen / seconds,
        "mask_sizes": sizes,
        "flops": flops,
    }


# --------------------------------------------------------------------------------------------
# 5. transform


def transform_flops_per_row(estimator, X: np.ndarray, rows: int = 256) -> float:
    """Matmul FLOPs per row of ``estimator.transform`` (counted on ``rows`` rows of ``X``, in fp32 on
    the CPU; FLOPs depend on neither the precision nor the device). The estimator is left as it was."""
    from torch.utils.flop_counter import FlopCounterMode

    params = {"precision": estimator.precision, "device": estimator.device}
    try:
        with FlopCounterMode(display=False, custom_mapping=_sdpa_flop_mapping()) as counter:
            estimator.set_params(precision="32", device="cpu").transform(X[:rows])
    finally:
        estimator.set_params(**params)
    return counter.get_total_flops() / min(rows, len(X))


def measure_transform(config: dict, precision: str, rows: int) -> dict:
    """Rows/s of ``transform`` of an (untrained: the speed is the same) estimator."""
    X = synthetic_table(rows)
    estimator = _estimator(config, precision, max_epochs=0).fit(X[:2048])
    estimator.transform(X[:1024])  # warm-up
    flops_per_row = transform_flops_per_row(estimator, X)
    started = time.perf_counter()
    out = estimator.transform(X)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "precision": _cpu_precision(precision),
        "rows_per_second": rows / seconds,
        "n_features_out": out.shape[1],
        "flops_per_row": flops_per_row,
    }


# --------------------------------------------------------------------------------------------
# attention profile


def _explicit_attention(q, k, v, dropout: float = 0.0):
    weights = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * q.shape[-1] ** -0.5, dim=-1)
    if dropout:
        weights = torch.nn.functional.dropout(weights, dropout, training=True)
    return torch.matmul(weights, v)


def _sdpa_in_fp32(q, k, v):
    with torch.autocast("cpu", enabled=False):
        return torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)


def attention_paths(dropout: float) -> dict:
    """The attention implementations compared: name -> (function of q, k, v; precisions it applies to)."""
    from torch.nn.functional import scaled_dot_product_attention as sdpa

    from sklearn_tjepa.model.attention import attention

    return {
        "sdpa": (lambda q, k, v: sdpa(q, k, v), ("32", "bf16")),
        "explicit": (lambda q, k, v: _explicit_attention(q, k, v), ("32", "bf16")),
        "sdpa_fp32": (_sdpa_in_fp32, ("bf16",)),
        "sdpa+dropout": (lambda q, k, v: sdpa(q, k, v, dropout_p=dropout), ("32", "bf16")),
        "package+dropout": (lambda q, k, v: attention(q, k, v, dropout=dropout), ("32", "bf16")),
        "explicit+dropout": (lambda q, k, v: _explicit_attention(q, k, v, dropout), ("32", "bf16")),
    }


def profile_attention(cases, precisions, dropout: float, repeats: int = 3, min_seconds: float = 0.2) -> list[dict]:
    """Milliseconds per call, forward and forward + backward, of every path on every case.

    ``q, k, v`` are views of one ``(sequences, tokens, 3 * heads * head_dim)`` tensor, as the
    model's projection gives them (bf16 under bf16, where the paths also run under autocast).
    """
    rows = []
    paths = attention_paths(dropout)
    for name, batch, heads, tokens, head_dim in cases:
        for precision in precisions:
            dtype = torch.bfloat16 if precision == "bf16" else torch.float32
            qkv = torch.randn(batch, tokens, 3 * heads * head_dim).to(dtype).requires_grad_()
            grad = torch.randn(batch, heads, tokens, head_dim).to(dtype)

            def split():
                return qkv.view(batch, tokens, 3, heads, head_dim).permute(2, 0, 3, 1, 4)

            for path, (function, applies) in paths.items():
                if precision not in applies:
                    continue
                with autocast_for(torch.device("cpu"), precision), torch.random.fork_rng(devices=[]):

                    def forward():
                        with torch.no_grad():
                            function(*split())

                    def forward_backward():
                        qkv.grad = None
                        function(*split()).backward(grad)

                    forward_ms = 1e3 * _best_seconds(forward, repeats, min_seconds)
                    backward_ms = 1e3 * _best_seconds(forward_backward, repeats, min_seconds)
                row = {
                    "case": name, "sequences": batch, "heads": heads, "tokens": tokens, "head_dim": head_dim,
                    "precision": precision, "path": path, "forward_ms": forward_ms, "forward_backward_ms": backward_ms,
                }
                rows.append(row)
                print(f"{name:>18} hd={head_dim:<2} {precision:>4} {path:>16}: forward {forward_ms:8.2f} ms, "
                      f"forward+backward {backward_ms:8.2f} ms", flush=True)
    return rows


# --------------------------------------------------------------------------------------------
# scaling with the rows


def measure_scaling_fit(config: dict, precision: str, rows: int, epochs: int, recompute="auto") -> dict:
    """Wall time and peak memory of ``fit`` on ``rows`` rows for ``epochs`` epochs."""
    X = synthetic_table(rows)
    after_data = resident_memory_mb()
    estimator = _estimator(config, precision, epochs, recompute=recompute)
    started = time.perf_counter()
    estimator.fit(X)
    seconds = time.perf_counter() - started
    trained = sum(r["seconds"] for r in estimator.history_)
    return {
        "rows": rows,
        "epochs": epochs,
        "precision": estimator.precision_,
        "recompute": estimator.recompute_,
        "fit_seconds": seconds,
        "samples_per_second": rows * epochs / trained,
        "rss_after_data_mb": after_data,
        "input_mb": X.nbytes / 2**20,
    }


def measure_scaling_transform(config: dict, precision: str, rows: int) -> dict:
    """Wall time and peak memory of ``transform(output="mean")`` of ``rows`` rows (untrained encoder)."""
    X = synthetic_table(rows)
    after_data = resident_memory_mb()
    estimator = _estimator({**config, "output": "mean"}, precision, max_epochs=0).fit(X[:2048])
    started = time.perf_counter()
    out = estimator.transform(X)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "precision": _cpu_precision(precision),
        "transform_seconds": seconds,
        "rows_per_second": rows / seconds,
        "rss_after_data_mb": after_data,
        "input_mb": X.nbytes / 2**20,
        "output_mb": out.nbytes / 2**20,
    }


def plot_scaling(results: dict, path: Path) -> None:
    """Seconds and peak memory against rows (log-log), with the linear growth from the smallest size.

    The memory plotted is the process's peak resident set less its resident set after the
    imports (``rss_at_start_mb``): what the measurement itself added, input table included.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, seconds_key in (("fit", "fit_seconds"), ("transform", "transform_seconds")):
        points = results["scaling"][kind]
        rows = np.array([p["rows"] for p in points], dtype=float)
        added = np.array([p["peak_memory_mb"] - p["rss_at_start_mb"] for p in points])
        for ax, values in ((time_ax, np.array([p[seconds_key] for p in points])), (memory_ax, added)):
            (line,) = ax.plot(rows, values, "o-", label=kind)
            ax.plot(rows, values[0] * rows / rows[0], ":", color=line.get_color(), label=f"{kind}, linear")
    time_ax.set(xscale="log", yscale="log", xlabel="rows", ylabel="wall seconds", title="time")
    memory_ax.set(xscale="log", yscale="log", xlabel="rows", ylabel="MiB", title="peak resident memory above the imports")
    for ax in (time_ax, memory_ax):
        ax.legend()
    params = results["scaling"]["params"]
    fig.suptitle(f"config {params['config']}, precision {params['precision']}, fit {params['epochs']} epochs; "
                 f"transform output='mean'", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# driver

TASKS = {
    "ours": measure_ours,
    "plain": measure_plain,
    "transform": measure_transform,
    "scaling_fit": measure_scaling_fit,
    "scaling_transform": measure_scaling_transform,
}


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
    from sklearn_tjepa.precision import native_bf16

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "native_bf16": native_bf16(torch.device("cpu")),
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def _recompute_value(text: str):
    return {"auto": "auto", "true": True, "false": False}[text]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="cpu")
    parser.add_argument("--out", default=None, help="results folder (default: a new one under ./sklearn_tjepa_runs)")
    parser.add_argument("--configs", nargs="+", default=None, choices=list(CONFIGS),
                        help="architectures (default: defaults and tuned; --scaling: defaults)")
    parser.add_argument("--precisions", "--precision", nargs="+", default=None, choices=["auto", "32", "bf16"],
                        help="precisions, measured side by side (default 32 and bf16; --scaling: auto)")
    parser.add_argument("--recompute", default="auto", choices=["auto", "true", "false"],
                        help="the estimator's recompute; the plain loop uses what it resolves to")
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps per epoch (default 4 defaults, 2 tuned)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit, the first not timed (default 3 fp32, 2 bf16)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--transform-rows", type=int, default=10_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["ours", "plain", "transform"])
    parser.add_argument(
        "--in-process", action="store_true", help="no child processes (peak memory cumulative where it cannot be reset)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, in process: a smoke test")
    parser.add_argument("--attention-profile", action="store_true", help="profile attention implementations only")
    parser.add_argument("--attention-dropout", type=float, default=CONFIGS["tuned"]["dropout"])
    parser.add_argument("--scaling", action="store_true", help="fit and transform time and memory against rows only")
    parser.add_argument("--scaling-rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--scaling-epochs", type=int, default=2)
    parser.add_argument("--plot", default=None, help="PNG of --scaling (default <out>/<name>_scaling.png)")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    return parser


def _write(results: dict, args) -> None:
    out = Path(args.out)
    results["machine"]["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    (out / f"{args.name}.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {out / (args.name + '.json')}")


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns the results dictionary that is also written as JSON."""
    args = _parser().parse_args(argv)
    if args.task:
        _child(args.task)
        return {}
    args.out = run_folder(args.out, "speed")
    results = {"name": args.name, "machine": _machine()}
    if args.attention_profile:
        cases = QUICK_ATTENTION_CASES if args.quick else ATTENTION_CASES
        precisions = [_cpu_precision(p) for p in (args.precisions or ["32", "bf16"])]
        results["attention"] = {
            "dropout": args.attention_dropout,
            "rows": profile_attention(cases, list(dict.fromkeys(precisions)), args.attention_dropout,
                                      min_seconds=0.01 if args.quick else 0.2),
        }
    elif args.scaling:
        run_scaling(args, results)
    else:
        run_speed(args, results)
    _write(results, args)
    return results


def run_scaling(args, results: dict) -> None:
    """``--scaling``: fit and transform per size, each in a fresh process; JSON and a PNG."""
    name = (args.configs or ["defaults"])[0]
    config = QUICK_CONFIG if args.quick else CONFIGS[name]
    precision = (args.precisions or ["auto"])[0]
    sizes = [64, 128] if args.quick else args.scaling_rows
    epochs = 1 if args.quick else args.scaling_epochs
    in_process = args.in_process or args.quick
    recompute = _recompute_value(args.recompute)
    scaling = results["scaling"] = {
        "params": {"config": "quick" if args.quick else name, "precision": precision, "epochs": epochs, "recompute": args.recompute},
        "fit": [],
        "transform": [],
    }
    for rows in sizes:
        fit = run_task({"kind": "scaling_fit", "kwargs": {"config": config, "precision": precision, "rows": rows,
                                                          "epochs": epochs, "recompute": recompute}}, in_process)
        scaling["fit"].append(fit)
        print(f"fit {rows:>9} rows: {fit['fit_seconds']:9.1f} s, peak {fit['peak_memory_mb']:7.0f} MiB", flush=True)
        transform = run_task({"kind": "scaling_transform", "kwargs": {"config": config, "precision": precision,
                                                                      "rows": rows}}, in_process)
        scaling["transform"].append(transform)
        print(f"transform {rows:>9} rows: {transform['transform_seconds']:9.1f} s, "
              f"peak {transform['peak_memory_mb']:7.0f} MiB", flush=True)
    plot = Path(args.plot) if args.plot else Path(args.out) / f"{args.name}_scaling.png"
    plot_scaling(results, plot)
    scaling["plot"] = str(plot)
    print(f"wrote {plot}")


def run_speed(args, results: dict) -> None:
    """The default run: matmul peaks, then ours, plain and transform per config and precision."""
    configs = {name: CONFIGS[name] for name in (args.configs or DEFAULT_CONFIGS)}
    precisions = args.precisions or ["32", "bf16"]
    shapes = MODEL_MATMUL_SHAPES
    if args.quick:
        configs = {"quick": QUICK_CONFIG}
        args.matmul_size, args.transform_rows, args.epochs, args.in_process = 128, 1024, 2, True
        precisions = precisions[:1] if len(precisions) > 1 and "32" in precisions else precisions
        shapes = QUICK_MATMUL_SHAPES
    recompute = _recompute_value(args.recompute)

    results.update({"matmul": {}, "matmul_shapes": [], "configs": {}})
    repeats = 2 if args.quick else 5
    for dtype in (torch.float32, torch.bfloat16):
        peak = matmul_peak(args.matmul_size, dtype, repeats=repeats)
        results["matmul"][peak["dtype"]] = peak
        print(f"matmul {peak['dtype']:>8} {args.matmul_size}x{args.matmul_size}: {peak['gflops']:8.1f} GFLOP/s "
              f"({torch.get_num_threads()} threads)", flush=True)
        for m, k, n in shapes:
            rate = matmul_rate(m, k, n, dtype, repeats=repeats)
            results["matmul_shapes"].append(rate)
            print(f"matmul {rate['dtype']:>8} {m}x{k}x{n}: {rate['gflops']:8.1f} GFLOP/s", flush=True)
    peaks = {"32": results["matmul"]["float32"]["gflops"], "bf16": results["matmul"]["bfloat16"]["gflops"]}

    for name, config in configs.items():
        steps = args.steps or (2 if args.quick or name.startswith("tuned") else 4)
        entry = results["configs"].setdefault(name, {"params": config, "steps_per_epoch": steps})
        for index, precision in enumerate(precisions):
            measured = entry.setdefault(precision, {})
            for kind in ("ours", "plain"):
                if kind in args.skip:
                    continue
                epochs = args.epochs or (3 if _cpu_precision(precision) == "32" else 2)
                kwargs = {"config": config, "precision": precision, "steps": steps, "epochs": epochs, "recompute": recompute}
                if kind == "plain":
                    kwargs["count_flops"] = index == 0  # FLOPs do not depend on the precision
                measured[kind] = run_task({"kind": kind, "kwargs": kwargs}, args.in_process)
                print(f"{name:>9} {precision:>4} {kind:>5}: {measured[kind]['samples_per_second']:8.1f} samples/s, "
                      f"peak {measured[kind]['peak_memory_mb']:7.0f} MiB ({measured[kind]['precision']}, "
                      f"recompute {measured[kind]['recompute']})", flush=True)
            if "transform" not in args.skip:
                measured["transform"] = run_task(
                    {"kind": "transform", "kwargs": {"config": config, "precision": precision, "rows": args.transform_rows}},
                    args.in_process,
                )
                print(f"{name:>9} {precision:>4} transform: {measured['transform']['rows_per_second']:8.0f} rows/s", flush=True)
        flops = next((entry[p]["plain"]["flops"] for p in precisions if entry[p].get("plain", {}).get("flops")), None)
        if flops:
            entry["flops_per_sample"] = flops["flops_per_sample"]
            for precision in precisions:
                for kind in ("ours", "plain"):
                    if kind in entry[precision]:
                        m = entry[precision][kind]
                        achieved = flops["flops_per_sample"] * m["samples_per_second"]
                        m["gflops"] = achieved / 1e9
                        m["share_of_matmul_peak"] = achieved / 1e9 / peaks[m["precision"]]
        for precision in precisions:
            if "transform" in entry[precision]:
                t = entry[precision]["transform"]
                t["gflops"] = t["flops_per_row"] * t["rows_per_second"] / 1e9
                t["share_of_matmul_peak"] = t["gflops"] / peaks[t["precision"]]
    _print_table(results)


def _print_table(results: dict) -> None:
    print(f"\n{'config':>9} {'prec':>4} {'loop':>9} {'samples/s':>10} {'peak MiB':>9} {'GFLOP/s':>8} {'% peak':>7}")
    for name, entry in results["configs"].items():
        for precision, measured in entry.items():
            if not isinstance(measured, dict) or precision == "params":
                continue
            for kind, m in measured.items():
                rate = m.get("samples_per_second", m.get("rows_per_second"))
                share = m.get("share_of_matmul_peak")
                label = precision if m["precision"] == precision else f"{precision}={m['precision']}"
                print(f"{name:>9} {label:>4} {kind:>9} {rate:10.1f} {m['peak_memory_mb']:9.0f} "
                      f"{m.get('gflops', float('nan')):8.2f} {'' if share is None else f'{100 * share:6.1f}%':>7}")


if __name__ == "__main__":
    main()
