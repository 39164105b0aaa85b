"""T-JEPA features for the benchmark: pretrain once per (dataset, seed, configuration), cache.

The cache file holds the fitted :class:`~sklearn_tjepa.TJEPATransformer`, the embeddings of every
row of the train, val and test splits (float32), the pretraining and embedding seconds and the
peak memory. Pretraining sees all training rows (never val or test labels, never test rows); the
epoch kept is the one with the lowest JEPA loss on the val rows. The untrained control is the
same transformer with ``max_epochs=0``. Cache files are joblib pickles: load only your own.

Target-aware pretraining (``finetune+target``) is not cached: the labels it sees differ with the
label fraction, so the fine-tuner pretrains the ``tjepa`` configuration itself in every cell.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import joblib
import numpy as np

from sklearn_tjepa.training.monitoring import peak_memory

__all__ = ["CACHED_FEATURES", "FEATURES", "TARGET_AWARE", "cache_path", "load_or_pretrain",
           "tjepa_params"]

#: Feature sets of the grid: the raw table, T-JEPA embeddings, the untrained encoder's.
FEATURES = ("raw", "tjepa", "untrained")
#: The feature sets whose transformer is pretrained once per (dataset, seed) and cached.
CACHED_FEATURES = ("tjepa", "untrained")
#: ``finetune`` only: the fine-tuner pretrains the ``tjepa`` configuration itself, on every train
#: row with the labelled rows' labels as one more column (``target_aware=True``).
TARGET_AWARE = "target"


def tjepa_params(budget, features: str, seed: int) -> dict:
    """Parameters of the transformer behind ``features`` ("tjepa", "untrained" or "target").

    ``"target"`` is the ``"tjepa"`` configuration, which the fine-tuner pretrains target-aware.
    """
    if features not in (*CACHED_FEATURES, TARGET_AWARE):
        raise ValueError(
            f"features must be one of {(*CACHED_FEATURES, TARGET_AWARE)}, got features={features!r}"
        )
    params = {**budget.tjepa, "random_state": seed, "output": "flatten"}
    if features == "untrained":
        params["max_epochs"] = 0
    return params


def cache_path(cache_dir, data, params: dict) -> Path:
    """One file per dataset variant and transformer configuration (seed included)."""
    key = json.dumps({"params": params, "data": data.variant}, sort_keys=True, default=str)
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return Path(cache_dir) / data.code / f"tjepa-seed{params['random_state']}-{digest}.joblib"


def _pretrain(data, params: dict) -> dict:
    from sklearn_tjepa import TJEPATransformer

    X_train, _ = data.rows("train")
    X_val, _ = data.rows("val")
    transformer = TJEPATransformer(**params)
    with peak_memory() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        # The val rows choose the epoch kept (lowest JEPA loss); no labels are involved.
        transformer.fit(X_train, eval_set=X_val if params["max_epochs"] > 0 else None)
        pretraining_seconds = time.perf_counter() - started
        pretraining_cpu_seconds = time.process_time() - cpu_started
        started = time.perf_counter()
        embeddings = {
            split: transformer.transform(data.rows(split)[0]).astype(np.float32)
            for split in ("train", "val", "test")
        }
        embedding_seconds = time.perf_counter() - started
    return {
        "transformer": transformer,
        "embeddings": embeddings,
        "params": params,
        "token_width": int(transformer.model_spec_.d_model),
        "pretraining_seconds": pretraining_seconds,
        "pretraining_cpu_seconds": pretraining_cpu_seconds,
        "embedding_seconds": embedding_seconds,
        "peak_rss_mb": round(memory["peak_mb"], 1),
        "n_iter": int(transformer.n_iter_),
        "best_epoch": transformer.best_epoch_,
        "history": transformer.history_,
    }


def load_or_pretrain(cache_dir, data, params: dict) -> dict:
    """The cached pretraining of ``params`` on ``data``, computed and stored when absent.

    Parameters
    ----------
    cache_dir : path-like
        Cache folder (a ``.gitignore`` that ignores everything is written into it).
    data : BenchData
    params : dict
        From :func:`tjepa_params`.

    Returns
    -------
    entry : dict
        ``transformer``, ``embeddings`` (``train``/``val``/``test`` -> float32 array), ``params``,
        ``token_width``, ``pretraining_seconds`` (wall clock), ``pretraining_cpu_seconds``,
        ``embedding_seconds``, ``peak_rss_mb``,
        ``n_iter``, ``best_epoch``, ``history``.
    """
    path = cache_path(cache_dir, data, params)
    if path.is_file():
        return joblib.load(path)
    entry = _pretrain(data, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = Path(cache_dir) / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    joblib.dump(entry, tmp)
    os.replace(tmp, path)
    return entry
