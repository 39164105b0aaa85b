"""``run --plan``: the cells of a run in order, their status and an estimate of their minutes.

Estimates come from wall-clock seconds already measured, never from a guess:

1. finished results in the results folder of the same cell (any seed) under the same protocol
   and budget limits: their fit and prediction seconds (and, for a target-aware cell, which
   pretrains inside its fit, its pretraining seconds), and for a cached pretraining the recorded
   pretraining seconds of the same dataset, feature set and T-JEPA configuration;
2. otherwise ``--timings``: a JSON object of minutes keyed ``"<dataset_code>/<cell>"`` (the
   cell's folder name, e.g. ``"adult_AD/mlp+tjepa@0.01"``) and
   ``"<dataset_code>/pretraining+tjepa"`` (or ``+untrained``), or another results folder (for
   example one where a cell of each kind was timed), read as in 1.

A cell or pretraining with neither has no estimate and is counted as such. The sums are serial
wall-clock minutes of the machine that measured them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from itertools import groupby
from pathlib import Path

import numpy as np

from sklearn_tjepa.bench.pretrain import (CACHED_FEATURES, FEATURES, TARGET_AWARE, cache_path,
                                          tjepa_params)
from sklearn_tjepa.bench.results import PROTOCOL, run_name
from sklearn_tjepa.bench.runner import bench_data, budget_limits, cell_status

__all__ = ["format_plan", "measured_minutes", "read_timings"]


def _params_without_seed(params: dict) -> dict:
    return {key: value for key, value in params.items() if key != "random_state"}


def measured_minutes(settings) -> tuple[dict, dict]:
    """Mean measured minutes per cell and per pretraining in ``settings.out``.

    Returns
    -------
    cells : dict of (dataset_code, cell name) -> float
        Fit and prediction minutes of finished results under the current protocol and budget
        (with the pretraining of a target-aware cell, which is part of the cell).
    pretrainings : dict of (dataset_code, "pretraining+<features>") -> float
        Pretraining minutes recorded by results of the budget's current T-JEPA configuration.
    """
    cells, pretrainings = defaultdict(list), defaultdict(list)
    for path in Path(settings.out).glob("*/*/output_*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        features = record.get("features")
        if (record.get("status") != "ok" or record.get("protocol") != PROTOCOL
                or features not in (*FEATURES, TARGET_AWARE)
                or record.get("budget_limits") != budget_limits(settings.budget,
                                                                record["model"], features)):
            continue
        code = record["dataset_code"]
        seconds = record["seconds"]
        own = seconds["pretraining"] if features == TARGET_AWARE else 0.0
        cells[code, path.parent.name].append((seconds["fit"] + seconds["inference"] + own) / 60)
        if features in CACHED_FEATURES:
            params = tjepa_params(settings.budget, features, record["seed"])
            if _params_without_seed(record["pretraining"]["params"]) == _params_without_seed(
                    params):
                pretrainings[code, f"pretraining+{features}"].append(seconds["pretraining"] / 60)
    mean = lambda values: float(np.mean(values))  # noqa: E731
    return ({key: mean(v) for key, v in cells.items()},
            {key: mean(v) for key, v in pretrainings.items()})


def read_timings(path, settings) -> dict:
    """Minutes by ``"<dataset_code>/<name>"`` from a JSON file or another results folder.

    Parameters
    ----------
    path : path-like
        A JSON object of minutes, or a results folder (its finished results of the current
        protocol and budget limits, as :func:`measured_minutes` reads them).
    settings : Settings
        The run's settings (its budget decides which results count).

    Returns
    -------
    timings : dict of str -> float
    """
    path = Path(path)
    if not path.is_dir():
        return json.loads(path.read_text())
    cells, pretrainings = measured_minutes(replace(settings, out=path))
    measured = {**cells, **pretrainings}
    return {f"{code}/{name}": minutes for (code, name), minutes in measured.items()}


def _minutes(measured: dict, timings: dict, code: str, name: str) -> float | None:
    """Measured minutes of ``(code, name)``, else the timing file's ``"<code>/<name>"``."""
    value = measured.get((code, name), timings.get(f"{code}/{name}"))
    return None if value is None else float(value)


def _text(minutes: float | None) -> str:
    return "?" if minutes is None else f"{minutes:.1f} min"


def format_plan(tasks, settings, timings: dict | None = None) -> str:
    """The plan of ``tasks``: one line per pretraining and cell, in run order, with totals.

    Parameters
    ----------
    tasks : list of Task
        In run order.
    settings : Settings
    timings : dict of str -> float, optional
        Minutes by ``"<dataset_code>/<cell>"`` or ``"<dataset_code>/pretraining+<features>"``,
        used where the results folder has no measurement.

    Returns
    -------
    text : str
    """
    timings = timings or {}
    cells, pretrainings = measured_minutes(settings)
    lines, totals = [], defaultdict(float)
    counts = defaultdict(int)
    for (dataset, seed), block in groupby(tasks, key=lambda t: (t.dataset, t.seed)):
        block = list(block)
        data = bench_data(settings, dataset)
        lines.append(f"{data.code} seed {seed}")
        for features in sorted({t.features for t in block if t.features in CACHED_FEATURES}):
            params = tjepa_params(settings.budget, features, seed)
            if cache_path(settings.cache_dir, data, params).is_file():
                lines.append(f"  {'pretraining +' + features:<39} cached")
                continue
            minutes = _minutes(pretrainings, timings, data.code, f"pretraining+{features}")
            counts["pretrain", minutes is None] += 1
            totals["pretrain"] += minutes or 0.0
            lines.append(f"  {'pretraining +' + features:<39} {'to run':<8} {_text(minutes)}")
        for task in block:
            name = run_name(task.model, task.features, task.fraction)
            status = cell_status(settings, task)
            if status == "done":
                counts["done", False] += 1
                lines.append(f"  {name:<39} done")
                continue
            minutes = _minutes(cells, timings, data.code, name)
            counts["cell", minutes is None] += 1
            totals["cell"] += minutes or 0.0
            lines.append(f"  {name:<39} {status:<8} {_text(minutes)}")
    to_run = counts["cell", False] + counts["cell", True]
    lines += [
        "",
        f"cells: {len(tasks)}, done {counts['done', False]}, to run {to_run} "
        f"({counts['cell', True]} without an estimate)",
        f"pretrainings to run: {counts['pretrain', False] + counts['pretrain', True]} "
        f"({counts['pretrain', True]} without an estimate)",
        f"estimated: {totals['cell'] + totals['pretrain']:.0f} min "
        f"({totals['cell']:.0f} cells + {totals['pretrain']:.0f} pretraining) of serial wall-clock "
        "time, from the measurements at hand only",
    ]
    return "\n".join(lines)
