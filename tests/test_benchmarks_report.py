"""The benchmark report from hand-written result files: n from the files present, missing cells,
caps, paired differences and their verdict, published anchors and their units, plots."""

import json
from pathlib import Path

import numpy as np
import pytest

from sklearn_tjepa.bench.report import load_results, target_std, write_report
from sklearn_tjepa.bench.results import PROTOCOL, run_name

_TASKS = {"adult_AD": ("adult", "binary", "accuracy"),
          "california_CA": ("california", "regression", "rmse"),
          "higgs_HI": ("higgs", "binary", "accuracy")}


def _write(out, code, model, features, fraction, seed, test, *, val=None, fit=None,
           status="ok", partial=False, pretraining=None, pretraining_s=0.0):
    name, task, metric = _TASKS[code]
    record = {
        "dataset": name, "dataset_code": code, "task": task, "model": model,
        "features": features, "label_fraction": fraction, "seed": seed, "status": status,
        "protocol": PROTOCOL, "budget": "cpu", "command": "python -m benchmarks run",
        "data": {"partial": partial, "rows": {"train": 100, "val": 50, "test": 50},
                 "subset_by_budget": False},
        "environment": {"machine": {"platform": "linux", "cpu_count": 2, "processor": "x86",
                                    "torch_threads": 1, "cuda": None},
                        "git": {"commit": "abc"}},
        "finished": "2026-01-01T00:00:00+00:00",
    }
    if status == "ok":
        record.update(
            test={metric: test}, val={metric: test if val is None else val},
            config={"reads": "raw table" if features == "raw" else "some tokens"},
            n_labelled=int(100 * fraction), fit=fit,
            seconds={"fit": 1.0, "pretraining": pretraining_s, "inference": 0.1},
            cpu_seconds={"fit": 1.0, "pretraining": pretraining_s, "inference": 0.1},
        )
        if pretraining is not None:
            record["pretraining"] = pretraining
    else:
        record["error"] = "RuntimeError: boom"
    path = Path(out) / code / run_name(model, features, fraction) / f"output_{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def _section(text, heading):
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _row(text, prefix):
    return next(line for line in text.splitlines() if line.startswith(prefix))


@pytest.fixture
def few_labels(tmp_path):
    """Adult: fine-tuning from pretrained beats untrained at 1% on 3 seeds; 10% a tie."""
    out = tmp_path / "results"
    for seed, (pre, scratch) in enumerate(((0.80, 0.75), (0.81, 0.75), (0.79, 0.76))):
        _write(out, "adult_AD", "finetune", "tjepa", 0.01, seed, pre)
        _write(out, "adult_AD", "finetune", "untrained", 0.01, seed, scratch)
        _write(out, "adult_AD", "catboost", "raw", 0.01, seed, 0.70)
    for seed, (pre, scratch) in enumerate(((0.85, 0.86), (0.86, 0.85), (0.85, 0.85))):
        _write(out, "adult_AD", "finetune", "tjepa", 0.1, seed, pre)
        _write(out, "adult_AD", "finetune", "untrained", 0.1, seed, scratch)
    return out


def test_paired_differences_and_verdicts(few_labels, tmp_path):
    report, verdict_path = write_report(few_labels, tmp_path / "docs" / "benchmarks.md")
    text = report.read_text()
    assert "![adult_AD: score against label fraction](benchmarks_adult_AD_fractions.png)" in text
    assert (tmp_path / "docs" / "benchmarks_adult_AD_fractions.png").stat().st_size > 1000
    diffs = np.array([0.05, 0.06, 0.03])
    se = diffs.std(ddof=1) / np.sqrt(3)
    row = _row(_section(text, "## adult_AD"), "| 1% |")
    assert f"+{diffs.mean():.4f} ± {se:.4f} (n=3) | helps" in row
    # The best T-JEPA pipeline (chosen on val) against the best raw GBDT on the same labels.
    assert ("| finetune+tjepa at 1%: 0.8000 ± 0.0100 (n=3) | catboost at 1%: 0.7000 ± 0.0000 "
            "(n=3) | +0.1000 ± 0.0058 (n=3) | helps |") in row
    assert "no clear difference" in _row(_section(text, "## adult_AD"), "| 10% |")
    assert _row(_section(text, "## adult_AD"), "| 100% |").count("missing") >= 3
    verdicts = verdict_path.read_text()
    assert verdicts.startswith("---\norphan: true\n---\n\n# Benchmark verdict\n\nWhere T-JEPA")
    assert f"helps: +{diffs.mean():.4f} ± {se:.4f} (n=3)" in _row(verdicts, "| adult_AD")


def _pretraining(embedding_seconds, peak_rss_mb):
    return {"params": {"d_model": 64, "n_layers": 2, "max_epochs": 10}, "n_iter": 10,
            "best_epoch": None, "embedding_seconds": embedding_seconds,
            "peak_rss_mb": peak_rss_mb, "final_loss": 0.1}


def test_target_aware_cells_are_compared_with_finetune_tjepa_on_test_and_val(few_labels, tmp_path):
    without = write_report(few_labels, tmp_path / "without.md")[0].read_text()
    # no target-aware result: no trace of the cell
    assert "target-aware" not in without and "finetune+target" not in without
    shared = _pretraining(5.0, 900.0)
    for seed, (test, val) in enumerate(((0.82, 0.81), (0.83, 0.80), (0.80, 0.80))):
        _write(few_labels, "adult_AD", "finetune", "target", 0.01, seed, test, val=val,
               pretraining=_pretraining(None, None), pretraining_s=30.0)
        _write(few_labels, "adult_AD", "finetune", "target", 0.1, seed, 0.85,
               pretraining=_pretraining(None, None), pretraining_s=40.0)
        # the cached pretraining of finetune+tjepa, shared by its cells of one seed
        for fraction in (0.01, 0.1):
            path = few_labels / "adult_AD" / run_name("finetune", "tjepa", fraction)
            record = json.loads((path / f"output_{seed}.json").read_text())
            record.update(pretraining=shared, seconds={**record["seconds"], "pretraining": 20.0})
            (path / f"output_{seed}.json").write_text(json.dumps(record))
    text = write_report(few_labels, tmp_path / "benchmarks.md")[0].read_text()
    adult = _section(text, "## adult_AD")
    assert _row(adult, "| finetune | +target-aware T-JEPA | 1% |")
    table = adult[adult.index("finetune+target − finetune+tjepa"):]
    test = np.array([0.82, 0.83, 0.80]) - np.array([0.80, 0.81, 0.79])
    val = np.array([0.81, 0.80, 0.80]) - np.array([0.80, 0.81, 0.79])
    row = _row(table, "| 1% |")
    for diff in (test, val):
        assert f"{diff.mean():+.4f} ± {diff.std(ddof=1) / np.sqrt(3):.4f} (n=3)" in row
    assert _row(table, "| 100% |") == "| 100% | missing | missing | missing | missing |"
    # each target-aware cell pretrains its own: 6 runs beside the 3 cached ones
    costs = _section(text, "## Pretraining cost")
    assert _row(costs, "| adult_AD | +target-aware T-JEPA |").endswith(
        "| 3 | 35.0 | 10.0 | – | – | – |")
    assert _row(costs, "| adult_AD | +T-JEPA |").endswith("| 3 | 20.0 | 10.0 | – | 5.0 | 900 |")
    assert "(21 results, 9 pretrainings)" in text


def test_n_counts_the_result_files_present_and_missing_cells_show(few_labels, tmp_path):
    # A summary.json that disagrees with the outputs is not read.
    (few_labels / "adult_AD" / "finetune+tjepa@0.01" / "summary.json").write_text(
        json.dumps({"test": {"mean": 0.1, "n": 9}}))
    (few_labels / "adult_AD" / "finetune+tjepa@0.01" / "output_2.json").unlink()
    _write(few_labels, "adult_AD", "mlp", "raw", 1.0, 0, 0.85, status="failed")
    text, _ = write_report(few_labels, tmp_path / "benchmarks.md")
    text = text.read_text()
    assert "| finetune | +T-JEPA | 1% | 1 | some tokens | 0.8050 ± 0.0071 (n=2) |" in text
    assert "| mlp | raw | raw table | missing; failed seeds 0 |" not in text  # no ok seed: no reads
    assert "| mlp | raw | – | missing; failed seeds 0 |" in text
    assert "| xgboost | +T-JEPA | – | missing |" in text
    assert "## Failed cells" in text


def test_epochs_run_and_caps_are_shown(tmp_path):
    out = tmp_path / "results"
    for seed, run in enumerate((20, 12)):
        fit = {"unit": "epochs", "run": run, "cap": 20, "best": run - 2 if run < 20 else 20,
               "ended_by": "cap" if run == 20 else "early stopping"}
        _write(out, "adult_AD", "mlp", "tjepa", 1.0, seed, 0.85, fit=fit)
    text = write_report(out, tmp_path / "benchmarks.md")[0].read_text()
    assert "| 16.0 / 20 epochs, best 15.0 | 1 of 2 |" in _row(text, "| mlp | +T-JEPA |")


def test_older_results_without_reads_or_fit_say_so(tmp_path):
    out = tmp_path / "results"
    _write(out, "adult_AD", "xgboost", "tjepa", 1.0, 0, 0.86)
    path = out / "adult_AD" / "xgboost+tjepa" / "output_0.json"
    record = json.loads(path.read_text())
    del record["protocol"], record["config"]["reads"], record["fit"]
    path.write_text(json.dumps(record))
    text = write_report(out, tmp_path / "benchmarks.md")[0].read_text()
    assert "| xgboost | +T-JEPA | not recorded | 0.8600 (n=1) |" in text
    assert "1 result files predate protocol" in text


def test_published_anchors_in_our_units_and_flagged(tmp_path, benchmark_data):
    out = tmp_path / "results"
    _write(out, "california_CA", "mlp", "raw", 1.0, 0, 0.50)
    _write(out, "higgs_HI", "mlp", "raw", 1.0, 0, 0.70, partial=True)
    std = target_std("california", benchmark_data)
    assert std == pytest.approx(1.154, abs=0.001)
    text = write_report(out, tmp_path / "benchmarks.md", data_dir=benchmark_data)[0].read_text()
    california = _section(text, "## california_CA")
    assert "Test RMSE in $100k (lower is better)" in california
    assert ("| *published*: Gorishniy et al. 2021 | mlp | raw | 0.499 | 0.499 | yes, same split |"
            in california)
    paper = _row(california, "| *published*: T-JEPA paper (ICLR 2025) | resnet | +T-JEPA |")
    assert f"| 0.441 (standardised target) | {0.441 * std:.3f} |" in paper
    assert "not comparable: different data and split" in paper
    assert "TabR (ICLR 2024) | tabr | raw | 0.403" in california
    higgs = _section(text, "## higgs_HI")
    assert "re-split of the benchmark's val and test subsets" in higgs
    assert "yes, same split" not in higgs
    assert "## adult_AD" not in text  # no Adult results: no Adult section
    assert (tmp_path / "benchmarks_california_CA.png").stat().st_size > 1000


def test_an_empty_results_folder_gives_a_stub(tmp_path):
    report, verdicts = write_report(tmp_path / "none", tmp_path / "benchmarks.md")
    assert "No results yet" in report.read_text() and "No results yet" in verdicts.read_text()
    assert load_results(tmp_path / "none").empty
