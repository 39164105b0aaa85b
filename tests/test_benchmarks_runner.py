"""The benchmark runner and report on the smoke budget: outputs, resume, failures, report."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_tjepa.bench import runner as runner_module
from sklearn_tjepa.bench.cli import main
from sklearn_tjepa.bench.report import write_report

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
pytestmark = pytest.mark.skipif(
    not (DATA / "california_housing.parquet").is_file(),
    reason=f"benchmark datasets not available at {DATA} (../shared is absent)",
)
MODELS = ("linear", "mlp", "hist_gradient_boosting")
FEATURES = ("raw", "tjepa", "untrained")
CELLS = {"adult_AD": "binary", "california_CA": "regression"}


def _run(out, *extra):
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "california", "--seeds", "0",
            "--models", *MODELS, "--out", str(out), "--data-dir", str(DATA), "--no-progress",
            *extra]
    return main(argv)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One smoke slice (2 datasets x 3 models x 3 feature sets, seed 0), run once."""
    out = tmp_path_factory.mktemp("results")
    assert _run(out) == 0
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
                if features != "raw":
                    pretraining = record["pretraining"]
                    assert pretraining["params"]["max_epochs"] == (0 if features == "untrained" else 2)


def test_summaries_count_the_seeds(results):
    for code, task in CELLS.items():
        summary = json.loads((results / code / "mlp+tjepa" / "summary.json").read_text())
        assert summary["metric"] == ("rmse" if task == "regression" else "accuracy")
        assert summary["test"]["n"] == summary["val"]["n"] == 1
        assert math.isfinite(summary["test"]["mean"]) and summary["test"]["std"] is None
        assert summary["seeds"] == [0] and summary["failed_seeds"] == []


def test_one_pretraining_per_dataset_seed_and_configuration(results):
    cached = sorted(p.parent.name for p in (results / ".cache").glob("*/*.joblib"))
    assert cached == ["adult_AD", "adult_AD", "california_CA", "california_CA"]


def test_rerun_skips_finished_work(results, capsys):
    before = {p: p.stat().st_mtime_ns for p in _outputs(results)}
    assert _run(results) == 0
    assert "0 run, 18 skipped" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in _outputs(results)} == before


def test_label_fraction_uses_a_labelled_subset_and_reuses_pretraining(results):
    cached = sorted((results / ".cache").glob("*/*.joblib"))
    assert _run(results, "--label-fraction", "0.1") == 0
    assert sorted((results / ".cache").glob("*/*.joblib")) == cached
    record = json.loads((results / "adult_AD" / "mlp+tjepa@0.1" / "output_0.json").read_text())
    assert record["status"] == "ok" and record["label_fraction"] == 0.1
    assert record["n_labelled"] == 30


def test_a_failing_model_is_recorded_and_does_not_stop_the_run(tmp_path, monkeypatch):
    original = runner_module.build_model

    def build(name, **kwargs):
        if name == "mlp":
            raise RuntimeError("boom in mlp")
        return original(name, **kwargs)

    monkeypatch.setattr(runner_module, "build_model", build)
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--models",
            "mlp", "linear", "--features", "raw", "--out", str(tmp_path), "--data-dir",
            str(DATA), "--no-progress"]
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


def test_finetune_models_reuse_the_cached_pretraining(tmp_path, monkeypatch):
    from sklearn_tjepa import TJEPATransformer

    fits = []
    original = TJEPATransformer.fit

    def counting_fit(self, X, y=None, **kwargs):
        fits.append(self.max_epochs)
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(TJEPATransformer, "fit", counting_fit)
    argv = ["run", "--budget", "smoke", "--datasets", "adult", "--seeds", "0", "--models",
            "finetune", "finetune_scratch", "--features", "raw", "tjepa", "--out", str(tmp_path),
            "--data-dir", str(DATA), "--no-progress"]
    assert main(argv) == 0
    names = sorted(p.parent.name for p in _outputs(tmp_path))
    # finetune_scratch has no cell on T-JEPA features: it never reads a pretraining.
    assert names == ["finetune", "finetune+tjepa", "finetune_scratch"]
    records = {n: json.loads((tmp_path / "adult_AD" / n / "output_0.json").read_text())
               for n in names}
    assert all(r["status"] == "ok" for r in records.values())
    # One cached pretraining (2 epochs), finetune's own (2) and the scratch control's (0);
    # finetune+tjepa starts from the cached transformer, frozen, without fitting it again.
    assert sorted(fits) == [0, 2, 2]
    assert records["finetune+tjepa"]["config"]["params"]["tjepa"] == "frozen cached transformer"
    assert records["finetune_scratch"]["config"]["params"]["tjepa"]["max_epochs"] == 0


def test_report_writes_markdown_and_plots(results, tmp_path):
    path = write_report(results, tmp_path / "benchmarks.md")
    text = path.read_text()
    for needle in ("## adult_AD", "## california_CA", "| model | raw | +T-JEPA | +untrained",
                   "## Where T-JEPA does and does not help", "## Pretraining cost",
                   "python -m benchmarks run --budget smoke", "smoke", "per_token"):
        assert needle in text
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "benchmarks_adult_AD.png" in pngs and "benchmarks_california_CA.png" in pngs
    assert all((tmp_path / name).stat().st_size > 1000 for name in pngs)


@pytest.mark.slow
def test_full_smoke_grid_from_the_command_line(tmp_path):
    """README's smoke run (``python -m benchmarks run --budget smoke --datasets adult california
    --seeds 0``): all ten models x three feature sets (raw, +T-JEPA, +untrained encoder) on Adult
    and California."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "benchmarks", "run", "--budget", "smoke", "--datasets",
               "adult", "california", "--seeds", "0", "--out", str(tmp_path), "--data-dir",
               str(DATA), "--no-progress"]
    done = subprocess.run(command, cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "60 run, 0 skipped, 0 failed" in done.stdout.replace(" (already done)", "")
    records = [json.loads(p.read_text()) for p in _outputs(tmp_path)]
    assert len(records) == 60 and all(r["status"] == "ok" for r in records)
    assert all(np.isfinite(list(r["test"].values())).all() for r in records)
    summaries = list(tmp_path.glob("*/*/summary.json"))
    assert len(summaries) == 60
