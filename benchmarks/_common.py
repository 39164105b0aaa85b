"""What the benchmark scripts share: the raw-feature baseline, the MLP probe, versions, run folders
and result files.

The linear probe is the package's own, :func:`sklearn_tjepa.probes.linear_probe`.

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
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sklearn_tjepa

__all__ = ["raw_features", "mlp_probe", "versions", "run_folder", "write_json"]

#: Where a run writes by default: a new folder under this one, in the current directory.
RUNS_FOLDER = "sklearn_tjepa_runs"


def raw_features(categorical_features) -> ColumnTransformer:
    """The raw-feature representation: one-hot categoricals, standardised numericals."""
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), list(categorical_features)), remainder=StandardScaler()
    )


def mlp_probe(seed: int, regression: bool = False):
    """The MLP probe: one hidden layer of 128 units, early stopping on 10% of the train rows."""
    kind = MLPRegressor if regression else MLPClassifier
    return kind(hidden_layer_sizes=(128,), early_stopping=True, random_state=seed, max_iter=200)


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
