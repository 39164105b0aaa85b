"""Atomic checkpoint files that load with ``torch.load(weights_only=True)``, and their fingerprint."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "load_checkpoint", "run_fingerprint", "fingerprint_differences"]

CHECKPOINT_NAME = "tjepa-last.pt"


def save_checkpoint(directory: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists and dicts only) to ``directory``.

    The file is written to a temporary name in the same directory and renamed over the previous
    checkpoint, so a crash at any moment leaves either the old or the new checkpoint, never a
    half-written one.

    Returns
    -------
    Path
        The checkpoint's path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tjepa-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(state, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(directory: str | os.PathLike) -> dict | None:
    """Load the checkpoint in ``directory`` onto the CPU, or return None when there is none."""
    path = Path(directory) / CHECKPOINT_NAME
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else str(value)


def run_fingerprint(spec, config, *, data_shapes: tuple, world_size: int) -> str:
    """What decides the weights of a run, as JSON: a checkpoint resumes only a run with the same.

    Parameters
    ----------
    spec : ModelSpec
        The architecture, all of its fields.
    config : TrainConfig
        Its :meth:`~sklearn_tjepa.training.TrainConfig.learned_settings` (every field but when
        to stop).
    data_shapes : tuple of tuple of int
        Shapes of the training arrays.
    world_size : int
        Number of data-parallel ranks.
    """
    return json.dumps(
        {
            "spec": dataclasses.asdict(spec),
            "config": config.learned_settings(),
            "data_shapes": [list(shape) for shape in data_shapes],
            "world_size": world_size,
        },
        sort_keys=True,
        default=_plain,
    )


def fingerprint_differences(saved: str, current: str) -> list[str]:
    """The settings that differ between two fingerprints, as ``"name: saved -> current"``."""
    old, new = json.loads(saved), json.loads(current)
    differences = []
    for part in sorted(set(old) | set(new)):
        before, after = old.get(part), new.get(part)
        if isinstance(before, dict) and isinstance(after, dict):
            for name in sorted(set(before) | set(after)):
                if before.get(name) != after.get(name):
                    differences.append(f"{name}: {before.get(name)!r} -> {after.get(name)!r}")
        elif before != after:
            differences.append(f"{part}: {before!r} -> {after!r}")
    return differences
