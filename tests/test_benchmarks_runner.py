"""The benchmark runner and report on the smoke budget: outputs, resume, failures, report."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_tjepa.bench import runner as runner_module
from sklearn_tjepa.bench.cli import main
from sklearn_tjepa.bench.report import write_report
from sklearn_tjepa.bench.results import PROTOCOL

MODELS = ("linear", "mlp", "hist_gradient_boosting")
FEATURES = ("raw", "tjepa", "untrained")
CELLS = {"adult_AD": "binary", "california_CA": "regression"}


def _run(data, out, *extra):
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "california", "--seeds", "0",
            "--models", *MODELS, "--out", str(out), "--data-dir", str(data), "--no-progress",
            *extra]
    return main(argv)


@pytest.fixture(scope="module")
def results(tmp_path_factory, benchmark_data):
    """One smoke slice (2 datasets x 3 models x 3 feature sets, seed 0), run once."""
    out = tmp_path_factory.mktemp("results")
    assert _run(benchmark_data, out) == 0
    return out


def _outputs(out):
    return sorted(Path(out).glob("*/*/output_*.json"))


def test_every_cell_has_a_complete_output(results):
    paths = _outputs(results)
    assert len(paths) == len(CELLS) * len(MODELS) * len(FEATURES)
    for code, task in CELLS.items():
        for model in MODELS:
            for features in FEATURES:
                name = model if features == "raw" else f"{model}+{features}"
                record = json.loads((results / code / name / "output_0.json").read_text())
                assert record["status"] == "ok", record.get("error")
                assert (record["dataset_code"], record["task"]) == (code, task)
                assert (record["model"], record["features"], record["seed"]) == (model, features, 0)
                expected = {"rmse"} if task == "regression" else {"accuracy", "roc_auc"}
                for split in ("val", "test"):
                    assert set(record[split]) == expected
                    assert all(math.isfinite(v) for v in record[split].values())
                assert set(record["seconds"]) == set(record["cpu_seconds"]) == {
                    "pretraining", "fit", "inference"}
                assert (record["seconds"]["pretraining"] > 0) == (features != "raw")
                assert record["peak_rss_mb"] > 0
                assert record["data"]["rows"] == {"train": 300, "val": 150, "test": 300}
                assert record["data"]["partial"] is False
                assert record["n_labelled"] == 300
                assert {"versions", "git", "machine"} <= set(record["environment"])
                assert record["environment"]["versions"]["torch"]
                assert "params" in record["config"]
                assert record["protocol"] == PROTOCOL
                assert ("tjepa" in record["budget_limits"]) == (features != "raw")
                if features != "raw":
                    pretraining = record["pretraining"]
                    assert pretraining["params"]["max_epochs"] == (0 if features == "untrained" else 2)


def test_every_result_says_what_the_model_read(results):
    n_tokens = {"adult_AD": 15, "california_CA": 9}  # one token per column and a CLS token
    for code in CELLS:
        reads = {name: json.loads((results / code / name / "output_0.json").read_text())
                 ["config"]["reads"] for name in ("mlp", "linear+tjepa",
                                                  "hist_gradient_boosting+untrained", "mlp+tjepa")}
        assert reads["mlp"] == "raw table"
        shape = f"({n_tokens[code]} x 8)"
        assert reads["linear+tjepa"] == f"raw + flattened tokens {shape}"
        assert reads["hist_gradient_boosting+untrained"] == f"raw + flattened tokens {shape}"
        assert reads["mlp+tjepa"].startswith(f"tokens {shape}, each reduced to one number")


def test_every_result_records_how_its_fit_ended(results):
    for code in CELLS:
        for name, unit, cap in (("mlp", "epochs", 2), ("mlp+tjepa", "epochs", 2),
                                ("hist_gradient_boosting", "rounds", 20),
                                ("hist_gradient_boosting+tjepa", "rounds", 20)):
            fit = json.loads((results / code / name / "output_0.json").read_text())["fit"]
            assert (fit["unit"], fit["cap"]) == (unit, cap)
            assert 1 <= fit["run"] <= cap
            assert fit["ended_by"] == ("cap" if fit["run"] == cap else "early stopping")


def test_summaries_count_the_seeds(results):
    for code, task in CELLS.items():
        summary = json.loads((results / code / "mlp+tjepa" / "summary.json").read_text())
        assert summary["metric"] == ("rmse" if task == "regression" else "accuracy")
        assert summary["test"]["n"] == summary["val"]["n"] == 1
        assert math.isfinite(summary["test"]["mean"]) and summary["test"]["std"] is None
        assert summary["seeds"] == [0] and summary["failed_seeds"] == []
        assert summary["fit"]["unit"] == "epochs" and summary["fit"]["cap"] == 2
        assert summary["fit"]["run"]["n"] == 1


def test_one_pretraining_per_dataset_seed_and_configuration(results):
    cached = sorted(p.parent.name for p in (results / ".cache").glob("*/*.joblib"))
    assert cached == ["adult_AD", "adult_AD", "california_CA", "california_CA"]


def test_rerun_skips_finished_work(results, capsys, benchmark_data):
    before = {p: p.stat().st_mtime_ns for p in _outputs(results)}
    assert _run(benchmark_data, results) == 0
    assert "0 run, 18 skipped" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in _outputs(results)} == before


def test_label_fraction_uses_a_labelled_subset_and_reuses_pretraining(results, benchmark_data):
    cached = sorted((results / ".cache").glob("*/*.joblib"))
    assert _run(benchmark_data, results, "--label-fraction", "0.1") == 0
    assert sorted((results / ".cache").glob("*/*.joblib")) == cached
    record = json.loads((results / "adult_AD" / "mlp+tjepa@0.1" / "output_0.json").read_text())
    assert record["status"] == "ok" and record["label_fraction"] == 0.1
    assert record["n_labelled"] == 30


def test_a_failing_model_is_recorded_and_does_not_stop_the_run(tmp_path, monkeypatch, benchmark_data):
    original = runner_module.build_model

    def build(name, **kwargs):
        if name == "mlp":
            raise RuntimeError("boom in mlp")
        return original(name, **kwargs)

    monkeypatch.setattr(runner_module, "build_model", build)
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--models",
            "mlp", "linear", "--features", "raw", "--out", str(tmp_path), "--data-dir",
            str(benchmark_data), "--no-progress"]
    assert main(argv) == 1
    failed = json.loads((tmp_path / "adult_AD" / "mlp" / "output_0.json").read_text())
    assert failed["status"] == "failed" and "boom in mlp" in failed["error"]
    assert "RuntimeError" in failed["traceback"]
    ok = json.loads((tmp_path / "adult_AD" / "linear" / "output_0.json").read_text())
    assert ok["status"] == "ok"
    summary = json.loads((tmp_path / "adult_AD" / "mlp" / "summary.json").read_text())
    assert summary["failed_seeds"] == [0] and summary["test"]["n"] == 0
    # The next run retries the failed cell only.
    monkeypatch.setattr(runner_module, "build_model", original)
    assert main(argv) == 0
    assert json.loads((tmp_path / "adult_AD" / "mlp" / "output_0.json").read_text())["status"] == "ok"


def test_few_label_grid_pretrains_on_every_train_row_and_shares_the_labelled_rows(
        tmp_path, monkeypatch, benchmark_data):
    from sklearn_tjepa import TJEPAClassifier, TJEPATransformer
    from sklearn_tjepa.finetune.estimators import TARGET_COLUMN

    fits, finetuned = [], []
    original, original_finetune = TJEPATransformer.fit, TJEPAClassifier.fit

    def counting_fit(self, X, y=None, **kwargs):
        # the labels a target-aware pretraining sees; -1 for one without the label column
        shown = int(X[TARGET_COLUMN].notna().sum()) if TARGET_COLUMN in X.columns else -1
        fits.append((self.max_epochs, len(X), shown))
        return original(self, X, y, **kwargs)

    def finetune_fit(self, X, y, X_val=None, y_val=None):
        finetuned.append((len(X), len(X_val)))
        return original_finetune(self, X, y, X_val=X_val, y_val=y_val)

    monkeypatch.setattr(TJEPATransformer, "fit", counting_fit)
    monkeypatch.setattr(TJEPAClassifier, "fit", finetune_fit)
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0",
            "--out", str(tmp_path), "--data-dir", str(benchmark_data), "--no-progress"]
    assert main([*argv, "--grid", "B"]) == 0
    assert main([*argv, "--grid", "target"]) == 0
    # Two cached pretrainings (T-JEPA and the untrained control), each on all 300 train rows
    # without labels, whatever the label fraction; the fine-tuners start from them without
    # pretraining again. A target-aware cell pretrains itself on all 300 train rows, with the
    # labels of its labelled rows only.
    assert sorted(fits) == [(0, 300, -1), (2, 300, -1), (2, 300, 10), (2, 300, 30), (2, 300, 300)]
    # Fine-tuned on the labelled rows (the target-aware ones given every train row, the
    # unlabelled ones marked), early-stopped on the whole val split.
    assert sorted(finetuned) == [(10, 150), (10, 150), (30, 150), (30, 150), *[(300, 150)] * 5]
    records = [json.loads(p.read_text()) for p in _outputs(tmp_path)]
    assert len(records) == 18 and all(r["status"] == "ok" for r in records)
    for fraction, n_labelled in ((0.01, 10), (0.1, 30), (1.0, 300)):
        cells = [r for r in records if r["label_fraction"] == fraction]
        assert sorted((r["model"], r["features"]) for r in cells) == [
            ("catboost", "raw"), ("finetune", "target"), ("finetune", "tjepa"),
            ("finetune", "untrained"), ("linear", "raw"), ("mlp", "raw")]
        assert {r["n_labelled"] for r in cells} == {n_labelled}
        assert len({r["labelled_rows_sha1"] for r in cells}) == 1
    finetuners = [r for r in records if r["model"] == "finetune"]
    for record in finetuners:
        features = record["features"]
        if features == "target":
            assert record["config"]["params"]["target_aware"] is True
            assert record["config"]["params"]["tjepa"].startswith("TJEPATransformer(budget's")
            assert "target-aware pretrained encoder" in record["config"]["reads"]
            # its own pretraining, inside the fit, is counted apart from the fine-tuning
            assert record["seconds"]["pretraining"] > 0 and record["seconds"]["fit"] > 0
            assert 0 < record["cpu_seconds"]["pretraining"]
            assert record["pretraining"]["n_iter"] == 2
        else:
            assert record["config"]["params"]["tjepa"] == f"frozen cached transformer ({features})"
            assert record["config"]["reads"].startswith(
                "raw table through the " + ("pretrained" if features == "tjepa" else "untrained"))
        # Capped by the budget and early-stopped on the whole val split.
        assert record["config"]["params"]["max_epochs"] == 2
        assert record["fit"]["unit"] == "epochs" and record["fit"]["cap"] == 2
        assert record["pretraining"]["params"]["max_epochs"] == (0 if features == "untrained"
                                                                 else 2)


def test_finetune_has_no_raw_feature_cell(tmp_path, benchmark_data):
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--models",
            "finetune", "--features", "raw", "--out", str(tmp_path), "--data-dir", str(benchmark_data),
            "--plan"]
    assert main(argv) == 0
    assert not _outputs(tmp_path)


def test_target_aware_cells_are_for_finetune_only(tmp_path, capsys, benchmark_data):
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--features",
            "target", "--out", str(tmp_path), "--data-dir", str(benchmark_data), "--plan"]
    with pytest.raises(SystemExit, match="--features target is target-aware pretraining"):
        main([*argv, "--models", "finetune", "mlp"])
    capsys.readouterr()
    assert main([*argv, "--models", "finetune", "--label-fraction", "0.01", "0.1"]) == 0
    plan = capsys.readouterr().out
    assert "finetune+target@0.01" in plan and "finetune+target@0.1" in plan
    assert "pretraining +" not in plan  # nothing cached to pretrain: each cell pretrains itself


def test_changing_one_model_s_limit_makes_only_its_cells_stale(tmp_path, benchmark_data):
    from dataclasses import replace

    from sklearn_tjepa.bench.budgets import get_budget
    from sklearn_tjepa.bench.grids import Task
    from sklearn_tjepa.bench.runner import Settings, budget_limits, cell_status

    smoke = get_budget("smoke")
    changed = replace(smoke, model_max_epochs={"finetune": 5})
    for model, features in (("mlp", "raw"), ("catboost", "tjepa"), ("finetune", "tjepa")):
        same = budget_limits(smoke, model, features) == budget_limits(changed, model, features)
        assert same == (model != "finetune")
    tjepa = replace(smoke, tjepa={**smoke.tjepa, "max_epochs": 3})
    assert budget_limits(smoke, "mlp", "raw") == budget_limits(tjepa, "mlp", "raw")
    assert budget_limits(smoke, "mlp", "tjepa") != budget_limits(tjepa, "mlp", "tjepa")
    settings = Settings(budget=changed, out=tmp_path, cache_dir=tmp_path, data_dir=str(benchmark_data))
    assert cell_status(settings, Task("adult", 0, "raw", 1.0, "mlp")) == "missing"


def test_a_stale_result_runs_again(tmp_path, capsys, benchmark_data):
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--models",
            "linear", "--features", "raw", "--out", str(tmp_path), "--data-dir", str(benchmark_data),
            "--no-progress"]
    assert main(argv) == 0
    path = tmp_path / "adult_AD" / "linear" / "output_0.json"
    record = json.loads(path.read_text())
    record["protocol"] = PROTOCOL - 1  # as written by an older version of the runner
    path.write_text(json.dumps(record))
    capsys.readouterr()
    assert main([*argv, "--plan"]) == 0
    assert re.search(r"linear\s+stale", capsys.readouterr().out)
    assert main(argv) == 0
    assert "1 run, 0 skipped" in capsys.readouterr().out
    assert json.loads(path.read_text())["protocol"] == PROTOCOL


def test_report_writes_markdown_and_plots(results, tmp_path, benchmark_data):
    path, _ = write_report(results, tmp_path / "benchmarks.md", data_dir=benchmark_data)
    text = path.read_text()
    for needle in ("## Verdict", "## adult_AD", "## california_CA",
                   "### Frozen features: raw vs +T-JEPA vs +untrained", "### Few labels",
                   "raw + flattened tokens (15 x 8)", "*published*: Gorishniy et al. 2021",
                   "## Pretraining cost", "python -m benchmarks run --budget smoke"):
        assert needle in text
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "benchmarks_adult_AD.png" in pngs and "benchmarks_california_CA.png" in pngs
    assert all((tmp_path / name).stat().st_size > 1000 for name in pngs)
    assert "\nWhere T-JEPA pretraining helps" in (tmp_path / "benchmarks_verdict.md").read_text()


@pytest.mark.slow
def test_full_smoke_grid_from_the_command_line(tmp_path, benchmark_data):
    """README's smoke run (``python -m benchmarks run --budget smoke --datasets adult california
    --seeds 0``): all ten models x three feature sets (raw, +T-JEPA, +untrained encoder) on Adult
    and California."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "benchmarks", "run", "--budget", "smoke", "--datasets",
               "adult", "california", "--seeds", "0", "--out", str(tmp_path), "--data-dir",
               str(benchmark_data), "--no-progress"]
    done = subprocess.run(command, cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "60 run, 0 skipped, 0 failed" in done.stdout.replace(" (already done)", "")
    records = [json.loads(p.read_text()) for p in _outputs(tmp_path)]
    assert len(records) == 60 and all(r["status"] == "ok" for r in records)
    assert all(np.isfinite(list(r["test"].values())).all() for r in records)
    summaries = list(tmp_path.glob("*/*/summary.json"))
    assert len(summaries) == 60


def test_a_cell_summary_is_written_as_soon_as_the_cell_finishes(tmp_path, monkeypatch, benchmark_data):
    """An interrupted run leaves the summaries of the cells it finished."""
    original = runner_module._run_task

    def interrupted(settings, task, pretraining_error):
        if task.model == "mlp":
            raise KeyboardInterrupt
        return original(settings, task, pretraining_error)

    monkeypatch.setattr(runner_module, "_run_task", interrupted)
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--models",
            "linear", "mlp", "--features", "raw", "--out", str(tmp_path), "--data-dir",
            str(benchmark_data), "--no-progress"]
    with pytest.raises(KeyboardInterrupt):
        main(argv)
    summary = json.loads((tmp_path / "adult_AD" / "linear" / "summary.json").read_text())
    assert summary["seeds"] == [0]
    assert not (tmp_path / "adult_AD" / "mlp").exists()


def test_device_is_recorded_and_is_not_a_limit(tmp_path, capsys, monkeypatch, benchmark_data):
    """``--device`` moves T-JEPA pretraining and fine-tuning; their cells stay done for the budget."""
    from dataclasses import replace

    from sklearn_tjepa.bench import budgets

    # A budget whose T-JEPA device is one this machine may not have: the cell runs on --device cpu.
    smoke = budgets.get_budget("smoke")
    monkeypatch.setitem(budgets.BUDGETS, "smoke", replace(smoke, tjepa={**smoke.tjepa, "device": "cuda"}))
    argv = ["run", "--budget", "smoke", "--datasets", "california", "--seeds", "0", "--models",
            "finetune", "--features", "tjepa", "--label-fraction", "0.1", "--out", str(tmp_path),
            "--data-dir", str(benchmark_data), "--no-progress"]
    assert main([*argv, "--device", "cpu"]) == 0
    record = json.loads(next(tmp_path.glob("california_CA/*/output_*.json")).read_text())
    assert record["status"] == "ok", record.get("error")
    assert record["device"] == "cpu"
    assert record["pretraining"]["params"]["device"] == "cpu"
    assert record["budget_limits"]["tjepa"]["device"] == "cuda"
    capsys.readouterr()
    assert main([*argv, "--plan"]) == 0
    assert re.search(r"finetune\+tjepa@0\.1\s+done", capsys.readouterr().out)
