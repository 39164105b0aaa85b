"""Collapse statistics of embeddings, and the package's one peak-memory measurement.

:func:`peak_memory` measures the peak memory of a block of code: the training loop's epochs (the
``peak_memory_mb`` of ``history_``), the benchmark runner's fits, and the speed and load scripts of
``benchmarks/`` all use it.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import torch

__all__ = ["BLOCK", "PROCESS", "collapse_statistics", "peak_memory", "resident_memory_mb"]

#: Scope of a reading that covers the measured block only.
BLOCK = "block"
#: Scope of a reading that covers the process's life so far: the block's own peak could not be
#: isolated (the CPU on a system without ``/proc/self/clear_refs``, such as macOS or Windows).
PROCESS = "process"

# Linux: writing "5" here resets the process's peak resident set (VmHWM of the status file).
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")

# The blocks being measured, per meter ("cpu" or "cuda:<index>"): each holds the highest peak
# seen before a nested block reset the meter, so that nesting does not lose the outer peak.
_open_blocks: dict[str, list["_Block"]] = {}
_lock = threading.Lock()


@torch.no_grad()
def collapse_statistics(embeddings: torch.Tensor) -> dict[str, float]:
    """Spread of embeddings across rows: signs of (partial) representation collapse.

    Parameters
    ----------
    embeddings : Tensor
        One embedding per row.

    Returns
    -------
    dict
        ``embedding_std``: mean over dimensions of the standard deviation across rows;
        ``effective_rank``: ``exp`` of the entropy of the normalised singular values of the
        centred embeddings (Roy & Vetterli 2007); 1 means every row maps to one line.

    Shape
    -----
    embeddings: ``(n_rows, n_dims)``, ``n_rows >= 2``
    """
    values = embeddings.double()
    centred = values - values.mean(dim=0)
    singular = torch.linalg.svdvals(centred)
    weights = singular / singular.sum().clamp_min(1e-12)
    entropy = -(weights * torch.log(weights.clamp_min(1e-30))).sum()
    return {
        "embedding_std": float(values.std(dim=0).mean()),
        "effective_rank": float(torch.exp(entropy)),
    }


def resident_memory_mb() -> float | None:
    """The process's resident memory now (``VmRSS``), in MiB; None where ``/proc`` is missing."""
    return _status_mb("VmRSS")


class _Block:
    __slots__ = ("peak_mb",)

    def __init__(self):
        self.peak_mb = 0.0


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        return None
    return None


def _read_mb(device: torch.device) -> float | None:
    """The meter's peak since its last reset, in MiB; None where it cannot be read."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return _status_mb("VmHWM")


def _reset(device: torch.device) -> bool:
    """Reset the meter's peak to the current use; False where the platform does not allow it."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return True
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_mb("VmHWM") is not None


def _process_peak_mb() -> float:
    """The process's peak resident memory over its life (``ru_maxrss``), in MiB."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


@contextmanager
def peak_memory(device="cpu"):
    """Measure the peak memory of the block it wraps, in MiB.

    On a CUDA device: the peak of torch's CUDA allocator during the block. On the CPU: the
    process's peak resident memory during the block (everything resident counts, not only what
    the block allocated), reset at entry through ``/proc/self/clear_refs`` on Linux; where that
    is not possible, the process's peak so far (``ru_maxrss``). Blocks nest: entering one resets
    the peak, so the peak reached until then is first kept for every enclosing block. The peak
    is process-wide: other threads' allocations count too.

    Parameters
    ----------
    device : str or torch.device, default="cpu"
        The memory to watch: a CUDA device's, or the process's resident memory.

    Yields
    ------
    dict
        Empty inside the block; afterwards ``peak_mb`` (float) and ``scope``: :data:`BLOCK`
        when the figure covers the block only, :data:`PROCESS` when it is the process's peak so
        far.

    Examples
    --------
    >>> from sklearn_tjepa.training.monitoring import peak_memory
    >>> with peak_memory() as memory:
    ...     rows = list(range(100_000))
    >>> memory["peak_mb"] > 0
    True
    """
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    meter = str(device) if device.type == "cuda" else "cpu"
    block = _Block()
    with _lock:
        enclosing = _open_blocks.setdefault(meter, [])
        before = _read_mb(device) if enclosing else None
        if before is not None:
            for outer in enclosing:
                outer.peak_mb = max(outer.peak_mb, before)
        isolated = _reset(device)
        enclosing.append(block)
    record = {}
    try:
        yield record
    finally:
        with _lock:
            enclosing.remove(block)
            reading = _read_mb(device) if isolated else None
        if reading is None:
            record.update(peak_mb=_process_peak_mb(), scope=PROCESS)
        else:
            record.update(peak_mb=max(block.peak_mb, reading), scope=BLOCK)
