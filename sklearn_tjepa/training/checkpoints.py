"""Atomic, self-checking checkpoint files that load with ``torch.load(weights_only=True)``.

A checkpoint is one torch file holding plain values (tensors, numbers, strings, lists, dicts), a
format number and a SHA-256 digest of everything else in it: :func:`load_checkpoint` refuses,
with a ``ValueError`` that names the file, one that is truncated, corrupted (a flipped bit in the
weights is caught by the digest, which ``torch.load`` alone does not notice), foreign, of another
format, or holding pickled objects (refused by ``weights_only=True``, so loading never runs code).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "CHECKPOINT_NAME",
    "CHECKPOINT_FORMAT",
    "save_checkpoint",
    "load_checkpoint",
    "run_fingerprint",
    "fingerprint_precision",
    "fingerprint_differences",
]

CHECKPOINT_NAME = "tjepa-last.pt"
#: Version of the layout of a checkpoint; 2 added the digest, the per-rank random states, the
#: seed and whether the run finished.
CHECKPOINT_FORMAT = 2
_META = ("format", "digest")


def _feed(hasher, value) -> None:
    """Hash ``value`` (nested dicts, lists, tensors and plain values) in a canonical order."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous().reshape(-1)
        hasher.update(f"T{tensor.dtype}{tuple(value.shape)};".encode())
        hasher.update(tensor.view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        hasher.update(f"D{len(value)};".encode())
        for key in sorted(value, key=repr):
            hasher.update(f"{key!r}:".encode())
            _feed(hasher, value[key])
    elif isinstance(value, (list, tuple)):
        hasher.update(f"L{len(value)};".encode())
        for item in value:
            _feed(hasher, item)
    else:
        hasher.update(f"V{value!r};".encode())


def _digest(state: dict) -> str:
    hasher = hashlib.sha256()
    _feed(hasher, state)
    return hasher.hexdigest()


def save_checkpoint(directory: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists and dicts only) to ``directory``.

    The file is written to a temporary name in the same directory, flushed to disk and renamed
    over the previous checkpoint, so a crash or an ``OSError`` (a full disk) at any moment leaves
    either the old or the new checkpoint, never a half-written one. The format number and the
    digest of ``state`` are added to the file.

    Returns
    -------
    Path
        The checkpoint's path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    payload = {**state, "format": CHECKPOINT_FORMAT, "digest": _digest(state)}
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tjepa-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _reason(error: Exception) -> str:
    """One line on why ``torch.load`` failed (its weights-only message spans many lines)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    detail = next((line for line in lines if line.startswith("WeightsUnpickler error")), lines[0] if lines else "")
    return f"{type(error).__name__}: {detail}"


def load_checkpoint(directory: str | os.PathLike) -> dict | None:
    """Load and check the checkpoint in ``directory`` onto the CPU; None when there is none.

    Returns
    -------
    dict or None
        The ``state`` given to :func:`save_checkpoint`.

    Raises
    ------
    ValueError
        Naming the file, when it cannot be read with ``weights_only=True`` (truncated, not a
        torch file, or holding pickled objects), is not a sklearn_tjepa checkpoint, has another
        format, or does not match its digest (corrupted).
    """
    path = Path(directory) / CHECKPOINT_NAME
    if not path.exists():
        return None
    remedy = "delete it, use another checkpoint_dir, or fit with resume=False"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"The checkpoint file {str(path)!r} cannot be read ({_reason(error)}); it is "
            f"truncated, corrupted, not a torch file, or holds objects that weights_only=True refuses to "
            f"unpickle: {remedy}"
        ) from error
    if not isinstance(payload, dict) or any(key not in payload for key in _META):
        raise ValueError(
            f"The file {str(path)!r} is not a sklearn_tjepa checkpoint (it lacks a format and digest): {remedy}"
        )
    if payload["format"] != CHECKPOINT_FORMAT:
        raise ValueError(
            f"The checkpoint file {str(path)!r} has format {payload['format']!r}, this version of sklearn_tjepa "
            f"reads format {CHECKPOINT_FORMAT}: {remedy}"
        )
    state = {key: value for key, value in payload.items() if key not in _META}
    if _digest(state) != payload["digest"]:
        raise ValueError(
            f"The checkpoint file {str(path)!r} is corrupted: its contents do not match the digest written "
            f"with them: {remedy}"
        )
    return state


def _plain(value):
    return value.item() if isinstance(value, np.generic) else str(value)


def run_fingerprint(spec, config, *, data_shapes: tuple, world_size: int, layout: dict | None = None) -> str:
    """What decides the weights of a run, as JSON: a checkpoint resumes only a run with the same.

    Parameters
    ----------
    spec : ModelSpec
        The architecture, all of its fields.
    config : TrainConfig
        Its :meth:`~sklearn_tjepa.training.TrainConfig.learned_settings` (every field but when
        to stop), the seed included.
    data_shapes : tuple of tuple of int
        Shapes of the training arrays.
    world_size : int
        Number of data-parallel ranks.
    layout : dict or None, default=None
        How rows streamed from files are laid out and shuffled (files, row groups, shuffle
        window); None for rows held in memory.
    """
    fingerprint = {
        "spec": dataclasses.asdict(spec),
        "config": config.learned_settings(),
        "data_shapes": [list(shape) for shape in data_shapes],
        "world_size": world_size,
    }
    if layout is not None:
        fingerprint["layout"] = layout
    return json.dumps(fingerprint, sort_keys=True, default=_plain)


def fingerprint_precision(fingerprint: str | None) -> str | None:
    """The resolved precision (``"32"`` or ``"bf16"``) recorded in a :func:`run_fingerprint`;
    None without a fingerprint or when it records none (written before it held the precision)."""
    if not isinstance(fingerprint, str):
        return None
    return json.loads(fingerprint).get("config", {}).get("precision")


#: What a difference in a fingerprint entry means, for the entries that are not parameters.
_CAUSES = {
    "seed": "the seed drawn from random_state, given as another int than in the checkpointed run",
    "data_shapes": "the shape of the encoded training data (numerical, categorical columns)",
    "world_size": "the number of ranks (n_procs * n_nodes)",
    "numerical_positions": "the columns typed numerical (categorical_features or the data's dtypes)",
    "categorical_positions": "the columns typed categorical (categorical_features or the data's dtypes)",
    "cardinalities": "the categories seen in the training data",
    "numerical_bin_edges": "the quantile bins of the training data",
    "files": "the Parquet files read, in order",
    "row_groups": "the row groups of the Parquet files (rows in each)",
    "window_rows": "the rows shuffled together (shuffle_buffer_rows rounded to whole batches)",
}


def fingerprint_differences(saved: str, current: str) -> list[str]:
    """The entries that differ between two fingerprints, as ``"name: saved -> current"``.

    An entry that is not a parameter of the estimator also says what it stands for, e.g.
    ``"seed (the seed drawn from random_state ...): 1 -> 2"``.
    """
    old, new = json.loads(saved), json.loads(current)

    def describe(name, before, after):
        cause = f" ({_CAUSES[name]})" if name in _CAUSES else ""
        return f"{name}{cause}: {before!r} -> {after!r}"

    differences = []
    for part in sorted(set(old) | set(new)):
        before, after = old.get(part), new.get(part)
        if isinstance(before, dict) and isinstance(after, dict):
            for name in sorted(set(before) | set(after)):
                if before.get(name) != after.get(name):
                    differences.append(describe(name, before.get(name), after.get(name)))
        elif before != after:
            differences.append(describe(part, before, after))
    return differences
