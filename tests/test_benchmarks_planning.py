"""``run --plan``: cells in run order with their status and minutes measured earlier."""

import json

import pytest

from sklearn_tjepa.bench.budgets import get_budget
from sklearn_tjepa.bench.cli import main
from sklearn_tjepa.bench.grids import grid_tasks
from sklearn_tjepa.bench.planning import format_plan
from sklearn_tjepa.bench.pretrain import tjepa_params
from sklearn_tjepa.bench.results import PROTOCOL
from sklearn_tjepa.bench.runner import Settings, budget_limits


def _settings(out, data):
    return Settings(budget=get_budget("smoke"), out=out, cache_dir=out / ".cache",
                    data_dir=str(data))


def _finished(out, name, model, features, fraction, seed, fit_seconds, pretraining_seconds=0.0):
    """A result file as the runner writes it, reduced to what the plan reads."""
    budget = get_budget("smoke")
    record = {
        "status": "ok", "protocol": PROTOCOL, "dataset_code": "adult_AD", "model": model,
        "features": features, "label_fraction": fraction, "seed": seed,
        "budget_limits": budget_limits(budget, model, features),
        "seconds": {"fit": fit_seconds, "inference": 0.0, "pretraining": pretraining_seconds},
    }
    if features != "raw":
        record["pretraining"] = {"params": tjepa_params(budget, features, seed)}
    path = out / "adult_AD" / name / f"output_{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def test_plan_lists_cells_in_order_with_measured_and_given_minutes(tmp_path, benchmark_data):
    _finished(tmp_path, "finetune+tjepa@0.01", "finetune", "tjepa", 0.01, 0, 120.0, 600.0)
    tasks = grid_tasks("B", ["adult"], [0, 1])
    timings = {"adult_AD/catboost@0.01": 0.5}
    text = format_plan(tasks, _settings(tmp_path, benchmark_data), timings)
    lines = text.splitlines()
    assert lines[0] == "adult_AD seed 0"
    seed1 = lines.index("adult_AD seed 1")
    block = lines[seed1:]
    # Seed 0's cell is done; seed 1's same cell is estimated from it (2 min), its pretraining
    # from the recorded pretraining seconds (10 min), catboost from the timing file.
    assert any(line.split() == ["finetune+tjepa@0.01", "done"] for line in lines[:seed1])
    assert any(line.split() == ["finetune+tjepa@0.01", "missing", "2.0", "min"] for line in block)
    assert any(line.split() == ["pretraining", "+tjepa", "to", "run", "10.0", "min"]
               for line in block)
    assert any(line.split() == ["catboost@0.01", "missing", "0.5", "min"] for line in block)
    assert any(line.split() == ["mlp@0.01", "missing", "?"] for line in block)
    assert "cells: 30, done 1, to run 29" in text


def test_plan_of_target_aware_cells_counts_their_own_pretraining(tmp_path, benchmark_data):
    _finished(tmp_path, "finetune+target@0.01", "finetune", "target", 0.01, 0, 60.0, 240.0)
    text = format_plan(grid_tasks("target", ["adult"], [0, 1]), _settings(tmp_path, benchmark_data))
    lines = text.splitlines()
    block = lines[lines.index("adult_AD seed 1"):]
    # A target-aware cell pretrains inside its fit: its estimate includes that (1 + 4 min).
    assert any(line.split() == ["finetune+target@0.01", "missing", "5.0", "min"] for line in block)
    assert not any(line.split()[0] == "pretraining" for line in lines if line.startswith("  "))
    assert "cells: 6, done 1, to run 5" in text and "pretrainings to run: 0" in text


def test_plan_from_the_command_line_runs_nothing(tmp_path, capsys, benchmark_data):
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"adult_AD/linear": 1.5}))
    argv = ["run", "--budget", "smoke", "--grid", "evidence", "--datasets", "adult", "--seeds",
            "0", "--out", str(tmp_path / "results"), "--data-dir", str(benchmark_data), "--plan",
            "--timings", str(timings)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == ["pretraining", "+tjepa"]
    assert any(line.split() == ["linear", "missing", "1.5", "min"] for line in out.splitlines())
    assert "cells: 42, done 0, to run 42" in out
    assert not (tmp_path / "results").exists()


def test_grid_and_cell_options_do_not_mix(tmp_path):
    argv = ["run", "--budget", "smoke", "--grid", "A", "--models", "mlp", "--plan", "--out",
            str(tmp_path)]
    with pytest.raises(SystemExit, match="drop --models"):
        main(argv)


def test_timings_from_another_results_folder(tmp_path, capsys, benchmark_data):
    timed = tmp_path / "timed"
    _finished(timed, "mlp@0.01", "mlp", "raw", 0.01, 0, 90.0)
    argv = ["run", "--budget", "smoke", "--grid", "B", "--datasets", "adult", "--seeds", "1",
            "--out", str(tmp_path / "results"), "--data-dir", str(benchmark_data), "--plan",
            "--timings", str(timed)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["mlp@0.01", "missing", "1.5", "min"] for line in lines)
