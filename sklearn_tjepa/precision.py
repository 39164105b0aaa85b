"""Numeric precision of training and embedding: what ``precision="auto"`` picks, and its autocast.

Why bfloat16: on CPUs with native bf16 instructions (``avx512_bf16``, AMX) and on GPUs with bf16
tensor cores, a bf16 matrix product runs several times faster than an fp32 one. On one thread of
an AMD EPYC with ``avx512_bf16`` (torch 2.13, ``torch.mm``, nothing else running), bf16 reached
1.7x to 4.5x the fp32 GFLOP/s at this model's shapes (a width-64 projection over 512 rows of 55
tokens, ``28160 x 64 x 64``: 95 against 25 GFLOP/s); ``benchmarks/speed.py`` measures the same
shapes (``MODEL_MATMUL_SHAPES``). Without native support bf16 is emulated and far slower than
fp32 (about 1 GFLOP/s against 176 GFLOP/s fp32 on an AVX2-only CPU of the same kind). Machines
that look alike differ here, so the choice is made at run time, on the device that computes,
never assumed: :func:`native_bf16` asks PyTorch. On GPUs ``"auto"`` computes in float32 (see
:data:`AUTO_BF16_DEVICE_TYPES`).

What bf16 covers: the forward passes run under ``torch.autocast(dtype=torch.bfloat16)``, so
matrix products (linear layers, attention) compute in bf16 while the weights, the optimiser's
state, the EMA target encoder's weights, the residual stream, the layer norms and the loss stay
in float32 (the loss casts predictions and targets to float32 first).
``benchmarks/speed.py --precision`` measures both precisions side by side with the matmul peak.
"""

from __future__ import annotations

import contextlib
import warnings

import torch

__all__ = ["AUTO_BF16_DEVICE_TYPES", "PRECISIONS", "native_bf16", "resolve_precision", "autocast_for"]

#: Values of the ``precision`` parameter: chosen per device, float32, or bfloat16 autocast.
PRECISIONS = ("auto", "32", "bf16")

#: Device types on which ``precision="auto"`` picks bf16 where it is native. Not CUDA: on one
#: H200 at the paper's tuned size for jannis (16 layers of width 64, batch 512), fit ran at
#: 7,218 samples/s in float32 and 4,715 under bf16 autocast. Steps of models this small are chains
#: of small kernels, and autocast's extra cast kernels cost more than bf16 matrix products save;
#: ``precision="bf16"`` still forces it (it used 36% less GPU memory there).
AUTO_BF16_DEVICE_TYPES = ("cpu",)


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bf16 matrix products natively (not emulated).

    On the CPU: oneDNN's own check (``torch.ops.mkldnn._is_mkldnn_bf16_supported()``, true with
    ``avx512_bf16`` or AMX); on CUDA: ``torch.cuda.is_bf16_supported(including_emulation=False)``
    for that device (compute capability 8.0 and newer). False for other devices.

    Parameters
    ----------
    device : torch.device
        The device that computes.

    Returns
    -------
    bool
    """
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        with torch.cuda.device(device):
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    if device.type == "cpu":
        try:
            return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):  # a build without oneDNN's check
            return False
    return False


def resolve_precision(precision: str, device: torch.device, *, continuing: str | None = None) -> str:
    """The precision to compute in on ``device``: ``"32"`` or ``"bf16"``.

    ``"auto"`` gives ``"bf16"`` on a CPU where :func:`native_bf16` holds and ``"32"`` elsewhere,
    GPUs included (see :data:`AUTO_BF16_DEVICE_TYPES`), except
    for a run that continues another (a resumed checkpoint, a later ``partial_fit`` call): there
    it gives ``continuing``, the precision that run computed in, so that the run goes on as it
    started on a machine whose bf16 support differs. ``"32"`` and ``"bf16"`` are kept (a run
    continued in another precision is then refused by its caller). ``"bf16"`` on a device
    without native bf16 is allowed, with a ``UserWarning`` that it will be slow.

    Parameters
    ----------
    precision : {"auto", "32", "bf16"}
        The estimator's ``precision`` parameter (already validated).
    device : torch.device
        The device that computes.
    continuing : {"32", "bf16"} or None, default=None
        The resolved precision of the run being continued; None for a new run.

    Returns
    -------
    str
    """
    native = native_bf16(device)
    if precision == "auto" and continuing is not None:
        if continuing == "bf16" and not native:
            warnings.warn(
                f"precision='auto' continues the run in bf16, the precision it started in, on {device}, which "
                "has no native bfloat16 support: bf16 is emulated there and runs much slower than float32; "
                "continue on a machine with native bf16, or start a new run",
                UserWarning,
                stacklevel=3,
            )
        return continuing
    if precision == "auto":
        return "bf16" if native and device.type in AUTO_BF16_DEVICE_TYPES else "32"
    if precision == "bf16" and not native:
        warnings.warn(
            f"precision='bf16' on {device}, which has no native bfloat16 support: bf16 is emulated "
            "there and runs much slower than float32; use precision='auto' or '32'",
            UserWarning,
            stacklevel=3,
        )
    return precision


def autocast_for(device: torch.device, precision: str):
    """Autocast context for a resolved ``precision`` on ``device``: none for ``"32"``, bf16 for ``"bf16"``.

    Raises ``ValueError`` for any other value (``"auto"`` must be resolved first, with
    :func:`resolve_precision`).
    """
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision == "32":
        return contextlib.nullcontext()
    raise ValueError(
        f"precision must be resolved to '32' or 'bf16' (see resolve_precision) before computing, got {precision=}"
    )
