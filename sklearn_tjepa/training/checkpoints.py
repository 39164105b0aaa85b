"""Atomic checkpoint files that load with ``torch.load(weights_only=True)``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "load_checkpoint"]

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
