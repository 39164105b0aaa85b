"""What the benchmark scripts share: versions, run folders and result files.

Imported by the scripts of this folder (``python benchmarks/<script>.py`` puts the folder on the
path).
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import sklearn
import torch

import sklearn_tjepa

__all__ = ["versions", "run_folder", "write_json"]

#: Where a run writes by default: a new folder under this one, in the current directory.
RUNS_FOLDER = "sklearn_tjepa_runs"


def versions() -> dict:
    """Versions of the package and of the libraries the figures depend on."""
    return {
        "sklearn_tjepa": sklearn_tjepa.__version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
    }


def run_folder(out, name: str) -> Path:
    """The folder a run writes its results to, created.

    Parameters
    ----------
    out : str, path-like or None
        The folder the user named. ``None`` makes a new one, ``sklearn_tjepa_runs/<name>-<UTC
        time>`` under the current directory (never a tracked file of the repository).
    name : str
        What ran (the script's name), for the default folder's name.

    Returns
    -------
    pathlib.Path
        The folder, absolute.
    """
    if out is None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        out = Path(RUNS_FOLDER) / f"{name}-{stamp}"
    folder = Path(out).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_json(path, payload: dict) -> Path:
    """Write ``payload`` as indented JSON to ``path`` (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
