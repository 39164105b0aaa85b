"""Run the benchmark grid: resumable, one pretraining per (dataset, seed, configuration).

The grid is every (dataset, model, features, label fraction, seed). A cell whose output file holds
a successful result is skipped, so an interrupted run resumes where it stopped; a failed cell is
recorded with its error (and retried by the next run) without stopping the others. Pretraining
runs first, once per (dataset, seed, T-JEPA configuration), and is cached on disk for the nine
models that read its embeddings.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sklearn_tjepa.bench.budgets import Budget
from sklearn_tjepa.bench.data import labelled_rows, load_data
from sklearn_tjepa.bench.models import FINETUNE_MODELS, build_model
from sklearn_tjepa.bench.pretrain import load_or_pretrain, tjepa_params
from sklearn_tjepa.bench.results import environment, metrics, output_path, summarize, write_json
from sklearn_tjepa.training.monitoring import peak_memory

__all__ = ["Settings", "Task", "plan", "run"]


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
    """

    budget: Budget
    out: Path
    cache_dir: Path
    data_dir: str | None = None
    jobs: int = 1
    command: str = ""


@dataclass(frozen=True, order=True)
class Task:
    """One cell of the grid."""

    dataset: str
    seed: int
    features: str
    fraction: float
    model: str = field(compare=True)


def plan(datasets, models, features, fractions, seeds) -> list[Task]:
    """Every cell of the grid, grouped by dataset and seed (so pretraining is reused early).

    ``finetune_scratch`` gets its raw-feature cells only (it never reads a pretraining).
    """
    return sorted(
        Task(dataset=d, seed=int(s), features=f, fraction=float(r), model=m)
        for d in datasets for s in seeds for f in features for r in fractions for m in models
        if m != "finetune_scratch" or f == "raw"
    )


def _data(settings: Settings, dataset: str):
    limits = tuple(sorted(settings.budget.max_rows.items()))
    return load_data(dataset, limits, settings.data_dir)


def _path(settings: Settings, task: Task) -> Path:
    code = _data(settings, task.dataset).code
    return output_path(settings.out, code, task.model, task.features, task.fraction, task.seed)


def _done(path: Path) -> bool:
    try:
        return json.loads(path.read_text())["status"] == "ok"
    except (OSError, ValueError, KeyError):
        return False


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
        load_or_pretrain(settings.cache_dir, _data(settings, dataset),
                         tjepa_params(settings.budget, features, seed))
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
        "data": dict(data.variant),
        "command": settings.command,
        "environment": environment(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _fit_and_score(settings: Settings, task: Task, data) -> dict:
    budget = settings.budget
    rows = labelled_rows(data, task.fraction, task.seed)
    X_train, y_train = data.rows("train", rows)
    X_val, y_val = data.rows("val")
    X_test, y_test = data.rows("test")
    record = {"n_labelled": int(rows.size)}
    pretraining_seconds, pretraining_cpu_seconds, token_width, transformer = 0.0, 0.0, None, None
    if task.features != "raw":
        params = tjepa_params(budget, task.features, task.seed)
        entry = load_or_pretrain(settings.cache_dir, data, params)
        if task.model in FINETUNE_MODELS:
            transformer = entry["transformer"]  # fine-tuned from the raw columns
        else:
            positions = np.searchsorted(data.splits["train"], rows)
            X_train = entry["embeddings"]["train"][positions]
            X_val, X_test = entry["embeddings"]["val"], entry["embeddings"]["test"]
        pretraining_seconds, token_width = entry["pretraining_seconds"], entry["token_width"]
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
    config["token_reading"] = budget.token_reading if task.features != "raw" else None
    with peak_memory() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        model.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        fit_seconds = time.perf_counter() - started
        fit_cpu_seconds = time.process_time() - cpu_started
        started, cpu_started = time.perf_counter(), time.process_time()
        val = metrics(data.task, model, X_val, y_val)
        test = metrics(data.task, model, X_test, y_test)  # scored once, after every choice
        inference_seconds = time.perf_counter() - started
        inference_cpu_seconds = time.process_time() - cpu_started
    record.update(
        status="ok",
        config=config,
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
    data = _data(settings, task.dataset)
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
    write_json(_path(settings, task), record)
    return {"task": task, "status": record["status"], "error": record.get("error")}


def run(tasks: list[Task], settings: Settings, *, progress: bool = True) -> dict:
    """Run the cells of ``tasks`` that have no successful output yet.

    Parameters
    ----------
    tasks : list of Task
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
    pending = [task for task in tasks if not _done(_path(settings, task))]
    pretrainings = sorted({(t.dataset, t.features, t.seed) for t in pending if t.features != "raw"})
    parallel = Parallel(n_jobs=settings.jobs, return_as="generator_unordered")
    bar = tqdm(total=len(pretrainings) + len(pending), disable=not progress, unit="fit",
               desc="benchmark")
    errors = {}
    for key, error in parallel(delayed(_pretrain)(settings, key) for key in pretrainings):
        errors[key] = error
        bar.set_postfix_str(f"pretrained {key[0]} {key[1]} seed {key[2]}", refresh=False)
        bar.update()
    failed = []
    jobs = (
        delayed(_run_task)(settings, t, errors.get((t.dataset, t.features, t.seed)))
        for t in pending
    )
    for outcome in parallel(jobs):
        task = outcome["task"]
        if outcome["status"] != "ok":
            failed.append((task, outcome["error"]))
        bar.set_postfix_str(f"{task.dataset} {task.model}+{task.features} seed {task.seed}",
                            refresh=False)
        bar.update()
    bar.close()
    for directory in sorted({_path(settings, t).parent for t in tasks}):
        if any(directory.glob("output_*.json")):
            summarize(directory)
    return {
        "ran": len(pending),
        "skipped": len(tasks) - len(pending),
        "failed": failed,
        "pretrained": len(pretrainings),
        "seconds": time.perf_counter() - started,
    }

