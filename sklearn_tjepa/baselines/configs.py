"""Default hyperparameters per benchmark dataset and model, stored as JSON.

The files are package data, ``sklearn_tjepa/baselines/configs_data/<dataset_code>/<model>.json``,
so they are installed with the package. Each holds ``dataset``, ``model``, ``task``, ``params``
(for :func:`~sklearn_tjepa.baselines.make_baseline`), ``source`` (where the values come from) and
``notes``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from sklearn_tjepa._checks import check_option
from sklearn_tjepa.baselines.factory import MODEL_NAMES

__all__ = ["DATASET_CODES", "load_config"]

DATASET_CODES = ("adult_AD", "california_CA", "higgs_HI", "jannis_JA")
_KEYS = ("dataset", "model", "task", "params", "source")


def load_config(dataset_code, model, *, config_dir=None) -> dict:
    """Load the default configuration of ``model`` on the benchmark dataset ``dataset_code``.

    Parameters
    ----------
    dataset_code : {"adult_AD", "california_CA", "higgs_HI", "jannis_JA"}
        Benchmark dataset.
    model : str
        One of :data:`~sklearn_tjepa.baselines.MODEL_NAMES`.
    config_dir : path-like or None, default=None
        Folder holding ``<dataset_code>/<model>.json``; the files shipped with the package
        when None.

    Returns
    -------
    config : dict
        ``dataset``, ``model``, ``task``, ``params``, ``source`` and ``notes``.

    Raises
    ------
    FileNotFoundError
        If ``config_dir`` lacks the file.

    Examples
    --------
    >>> from sklearn_tjepa.baselines import load_config, make_baseline
    >>> config = load_config("adult_AD", "mlp")
    >>> params = config["params"]
    >>> model = make_baseline(config["model"], task=config["task"], random_state=0, **params)
    >>> type(model).__name__
    'MLPClassifier'
    """
    check_option("dataset_code", dataset_code, DATASET_CODES)
    check_option("model", model, MODEL_NAMES)
    if config_dir is None:
        path = files("sklearn_tjepa.baselines").joinpath("configs_data", dataset_code, f"{model}.json")
    else:
        path = Path(config_dir) / dataset_code / f"{model}.json"
    if not path.is_file():
        raise FileNotFoundError(f"No configuration file {path}; pass config_dir to point elsewhere.")
    config = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in _KEYS if key not in config]
    if missing or config["dataset"] != dataset_code or config["model"] != model:
        raise ValueError(
            f"{path} is not a configuration of {model!r} on {dataset_code!r}: it needs the keys "
            f"{_KEYS} with matching dataset and model (missing: {missing})"
        )
    return config
