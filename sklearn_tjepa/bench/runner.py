"""Run the benchmark grid: resumable, one pretraining per (dataset, seed, configuration).

The cells (:mod:`~sklearn_tjepa.bench.grids`) run in blocks of one (dataset, seed), in the order
given. A cell whose output file holds a successful result of the current protocol and budget
limits is skipped, so an interrupted run resumes where it stopped; a failed or stale cell (an
older protocol, or other budget limits) runs again and its output is replaced; a failing cell is
recorded with its error without stopping the others. Each block first pretrains what its cells
need (cached on disk, pretrained on every train row without labels), then runs its cells; each
cell's ``summary.json`` is rewritten as soon as one of its seeds finishes. A target-aware cell
(``finetune+target``) pretrains inside its own fit instead, on every train row with the labelled
rows' labels; its result records that pretraining's seconds apart from the fine-tuning's.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from itertools import groupby
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sklearn_tjepa.bench.budgets import Budget
from sklearn_tjepa.bench.data import labelled_rows, load_data, train_rows_marked
from sklearn_tjepa.bench.fits import fit_extent
from sklearn_tjepa.bench.grids import Task
from sklearn_tjepa.bench.inputs import RAW_PLUS_TOKENS, describe_reading, model_input
from sklearn_tjepa.bench.models import FINETUNE_MODELS, build_model
from sklearn_tjepa.bench.pretrain import (CACHED_FEATURES, TARGET_AWARE, load_or_pretrain,
                                          tjepa_params)
from sklearn_tjepa.bench.results import PROTOCOL, environment, metrics, output_path, summarize, write_json
from sklearn_tjepa.callbacks import Callback
from sklearn_tjepa.training.monitoring import peak_memory

__all__ = ["Settings", "bench_data", "budget_limits", "cell_path", "cell_status", "computing_budget",
           "run"]


@dataclass(frozen=True)
class Settings:
    """Where and how the grid runs.

    Attributes
    ----------
    budget : Budget
    out : Path
        Results folder.
    cache_dir : Path
        Pretraining cache (default ``<out>/.cache``).
    data_dir : str or None
        Passed to :func:`~sklearn_tjepa.datasets.load_benchmark`.
    jobs : int
        Parallel worker processes.
    command : str
        The command line, recorded in every result.
    device : str or None
        Torch device of T-JEPA pretraining and fine-tuning in place of the budget's (see
        :func:`computing_budget`); recorded in every result. None keeps the budget's.
    """

    budget: Budget
    out: Path
    cache_dir: Path
    data_dir: str | None = None
    jobs: int = 1
    command: str = ""
    device: str | None = None


def computing_budget(settings: Settings) -> Budget:
    """The budget with the T-JEPA device of ``settings.device``, when one is given.

    The device is where pretraining and fine-tuning compute, not a limit: cells computed on
    another device keep the budget's limits (:func:`budget_limits`), so they count as done for
    the budget and are not run again.
    """
    if settings.device is None:
        return settings.budget
    return replace(settings.budget, tjepa={**settings.budget.tjepa, "device": settings.device})


def budget_limits(budget: Budget, model: str, features: str) -> dict:
    """The budget's limits a cell depends on, as its result records them (JSON types).

    All limits but the description, with the per-model entries (``model_max_epochs``,
    ``deep_overrides``, ``gbdt_overrides``) of ``model`` only; a raw-feature cell does not depend
    on the T-JEPA configuration or the token reading. Changing a limit makes stale exactly the
    cells that depend on it.
    """
    limits = budget.as_dict()
    limits.pop("description")
    for key in ("model_max_epochs", "deep_overrides", "gbdt_overrides"):
        limits[key] = {name: value for name, value in limits[key].items() if name == model}
    if features == "raw":
        limits.pop("tjepa")
        limits.pop("token_reading")
    return json.loads(json.dumps(limits))


def bench_data(settings: Settings, dataset: str):
    """The dataset under the budget's row limits (cached per process)."""
    limits = tuple(sorted(settings.budget.max_rows.items()))
    return load_data(dataset, limits, settings.data_dir)


def cell_path(settings: Settings, task: Task) -> Path:
    """The output file of ``task``."""
    code = bench_data(settings, task.dataset).code
    return output_path(settings.out, code, task.model, task.features, task.fraction, task.seed)


def cell_status(settings: Settings, task: Task) -> str:
    """``"done"``, ``"failed"``, ``"stale"`` (ok, but another protocol or other budget limits)
    or ``"missing"``: what the output file of ``task`` holds."""
    try:
        record = json.loads(cell_path(settings, task).read_text())
    except (OSError, ValueError):
        return "missing"
    if record.get("status") != "ok":
        return "failed"
    current = (record.get("protocol"), record.get("budget_limits"))
    if current != (PROTOCOL, budget_limits(settings.budget, task.model, task.features)):
        return "stale"
    return "done"


class _PretrainingEnd(Callback):
    """Records when the pretraining inside a fine-tuner's fit ends: ``wall``
    (``time.perf_counter``) and ``cpu`` (``time.process_time``)."""

    def on_train_end(self, estimator, **kwargs):
        self.wall, self.cpu = time.perf_counter(), time.process_time()


def _own_pretraining_record(tjepa, params: dict) -> dict:
    """``pretraining`` of a target-aware cell's result, keyed as a cached pretraining's: the
    fitted transformer ``tjepa`` of ``params`` embeds nothing, and its peak memory is the
    cell's."""
    return {
        "params": params,
        "n_iter": int(tjepa.n_iter_),
        "best_epoch": tjepa.best_epoch_,
        "embedding_seconds": None,
        "peak_rss_mb": None,
        "final_loss": tjepa.history_[-1]["loss"] if tjepa.history_ else None,
    }


def _threads(settings: Settings) -> None:
    if settings.jobs > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // settings.jobs))


def _pretrain(settings: Settings, key: tuple) -> tuple:
    """Fill the cache for one ``(dataset, features, seed)``; return the key and the error text
    (None on success)."""
    dataset, features, seed = key
    _threads(settings)
    try:
        load_or_pretrain(settings.cache_dir, bench_data(settings, dataset),
                         tjepa_params(computing_budget(settings), features, seed))
    except Exception as exc:  # recorded in every cell that needs it
        return key, f"pretraining failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    return key, None


def _base_record(settings: Settings, task: Task, data) -> dict:
    return {
        "dataset": data.name,
        "dataset_code": data.code,
        "task": data.task,
        "model": task.model,
        "features": task.features,
        "label_fraction": task.fraction,
        "seed": task.seed,
        "budget": settings.budget.name,
        "budget_limits": budget_limits(settings.budget, task.model, task.features),
        "device": computing_budget(settings).tjepa.get("device", "auto"),
        "protocol": PROTOCOL,
        "data": dict(data.variant),
        "command": settings.command,
        "environment": environment(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _fit_and_score(settings: Settings, task: Task, data) -> dict:
    budget = computing_budget(settings)
    rows = labelled_rows(data, task.fraction, task.seed)
    X_train, y_train = data.rows("train", rows)
    X_val, y_val = data.rows("val")
    X_test, y_test = data.rows("test")
    record = {
        "n_labelled": int(rows.size),
        # Same digest for every model of a (dataset, seed, label fraction): the same rows.
        "labelled_rows_sha1": hashlib.sha1(rows.astype("int64").tobytes()).hexdigest()[:16],
    }
    pretraining_seconds, pretraining_cpu_seconds, transformer = 0.0, 0.0, None
    token_width = n_tokens = None
    target_aware = task.features == TARGET_AWARE
    params = None if task.features == "raw" else tjepa_params(budget, task.features, task.seed)
    if target_aware:
        # Every train row: the fine-tuner pretrains on all, showing the labelled rows' labels.
        X_train, y_train = train_rows_marked(data, rows)
    elif params is not None:
        entry = load_or_pretrain(settings.cache_dir, data, params)
        token_width = entry["token_width"]
        n_tokens = entry["embeddings"]["train"].shape[1] // token_width
        if task.model in FINETUNE_MODELS:
            transformer = entry["transformer"]  # fine-tuned from the raw columns
        else:
            positions = np.searchsorted(data.splits["train"], rows)
            embeddings = entry["embeddings"]
            X_train = model_input(task.model, X_train, embeddings["train"][positions])
            X_val = model_input(task.model, X_val, embeddings["val"])
            X_test = model_input(task.model, X_test, embeddings["test"])
        pretraining_seconds = entry["pretraining_seconds"]
        pretraining_cpu_seconds = entry["pretraining_cpu_seconds"]
        record["pretraining"] = {
            "params": params,
            "n_iter": entry["n_iter"],
            "best_epoch": entry["best_epoch"],
            "embedding_seconds": entry["embedding_seconds"],
            "peak_rss_mb": entry["peak_rss_mb"],
            "final_loss": entry["history"][-1]["loss"] if entry["history"] else None,
        }
    model, config = build_model(
        task.model, data=data, features=task.features, budget=budget, seed=task.seed,
        token_width=token_width, transformer=transformer,
    )
    reads_tokens_alone = task.model not in (*RAW_PLUS_TOKENS, *FINETUNE_MODELS)
    token_reading = budget.token_reading if task.features != "raw" and reads_tokens_alone else None
    config["token_reading"] = token_reading
    config["reads"] = describe_reading(task.model, task.features, token_reading=token_reading,
                                       n_tokens=n_tokens, token_width=token_width)
    if target_aware:
        model.set_params(tjepa__callbacks=[_PretrainingEnd()])
    with peak_memory() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        model.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        fit_seconds = time.perf_counter() - started
        fit_cpu_seconds = time.process_time() - cpu_started
        if target_aware:  # the fit began with the pretraining: its seconds are counted apart
            end = model.tjepa_.callbacks[0]
            pretraining_seconds = end.wall - started
            pretraining_cpu_seconds = end.cpu - cpu_started
            fit_seconds -= pretraining_seconds
            fit_cpu_seconds -= pretraining_cpu_seconds
            record["pretraining"] = _own_pretraining_record(model.tjepa_, params)
        started, cpu_started = time.perf_counter(), time.process_time()
        val = metrics(data.task, model, X_val, y_val)
        test = metrics(data.task, model, X_test, y_test)  # scored once, after every choice
        inference_seconds = time.perf_counter() - started
        inference_cpu_seconds = time.process_time() - cpu_started
    record.update(
        status="ok",
        config=config,
        fit=fit_extent(model),
        val=val,
        test=test,
        seconds={"pretraining": pretraining_seconds, "fit": fit_seconds,
                 "inference": inference_seconds},
        # CPU time of this process (all its threads): on a busy machine it tells the work done
        # better than the wall-clock seconds.
        cpu_seconds={"pretraining": pretraining_cpu_seconds, "fit": fit_cpu_seconds,
                     "inference": inference_cpu_seconds},
        peak_rss_mb=round(memory["peak_mb"], 1),
        peak_rss_scope=memory["scope"],
    )
    return record


def _run_task(settings: Settings, task: Task, pretraining_error: str | None) -> dict:
    """Run one cell and write its output file; never raises for a failing model."""
    _threads(settings)
    data = bench_data(settings, task.dataset)
    record = _base_record(settings, task, data)
    if pretraining_error is not None:
        record.update(status="failed", error=pretraining_error)
    else:
        try:
            record.update(_fit_and_score(settings, task, data))
        except Exception as exc:  # one failing model must not stop the grid
            record.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
    record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(cell_path(settings, task), record)
    return {"task": task, "status": record["status"], "error": record.get("error")}


def run(tasks: list[Task], settings: Settings, *, progress: bool = True) -> dict:
    """Run the cells of ``tasks`` that are not done yet, in blocks of one (dataset, seed).

    Parameters
    ----------
    tasks : list of Task
        In run order (:func:`~sklearn_tjepa.bench.grids.grid_tasks`).
    settings : Settings
    progress : bool, default=True
        Show a tqdm progress bar.

    Returns
    -------
    stats : dict
        ``ran``, ``skipped``, ``failed`` (list of ``(task, error)``), ``pretrained`` and
        ``seconds``.
    """
    started = time.perf_counter()
    pending = [task for task in tasks if cell_status(settings, task) != "done"]
    blocks = [list(block) for _, block in groupby(pending, key=lambda t: (t.dataset, t.seed))]
    needs = [sorted({(t.dataset, t.features, t.seed) for t in block
                     if t.features in CACHED_FEATURES}) for block in blocks]
    parallel = Parallel(n_jobs=settings.jobs, return_as="generator_unordered")
    bar = tqdm(total=sum(map(len, needs)) + len(pending), disable=not progress, unit="fit",
               desc="benchmark")
    failed = []
    for block, keys in zip(blocks, needs):
        errors = {}
        for key, error in parallel(delayed(_pretrain)(settings, key) for key in keys):
            errors[key] = error
            bar.set_postfix_str(f"pretrained {key[0]} {key[1]} seed {key[2]}", refresh=False)
            bar.update()
        jobs = (
            delayed(_run_task)(settings, t, errors.get((t.dataset, t.features, t.seed)))
            for t in block
        )
        for outcome in parallel(jobs):
            task = outcome["task"]
            if outcome["status"] != "ok":
                failed.append((task, outcome["error"]))
            summarize(cell_path(settings, task).parent)
            bar.set_postfix_str(f"{task.dataset} {task.model}+{task.features} seed {task.seed}",
                                refresh=False)
            bar.update()
    bar.close()
    return {
        "ran": len(pending),
        "skipped": len(tasks) - len(pending),
        "failed": failed,
        "pretrained": sum(map(len, needs)),
        "seconds": time.perf_counter() - started,
    }
