"""benchmarks/few_labels.py (the main job) on 200 rows per split, tiny models and one epoch: it
compares the three models at every label fraction, writes its results to a folder of the user's
(never into the repository) under keys that say what they hold, and falls back to
HistGradientBoosting without catboost."""

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from sklearn_tjepa import datasets
from sklearn_tjepa.bench.data import labelled_rows, load_data

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
QUICK = ["--tiny", "--max-rows", "200", "--epochs", "1", "--finetune-epochs", "1"]


@pytest.fixture
def few_labels(monkeypatch):
    """The script as a module; the data comes from the shipped copies."""
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports _common from its folder
    spec = importlib.util.spec_from_file_location("few_labels_script", BENCHMARKS / "few_labels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def written(out: str) -> Path:
    """The path the script printed (``out``) it wrote to."""
    (line,) = [line for line in out.splitlines() if line.startswith("written to ")]
    return Path(line.removeprefix("written to "))


def test_default_run_writes_every_figure_to_a_new_folder_under_the_current_directory(
    few_labels, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    run = few_labels.main(QUICK)
    out = capsys.readouterr().out
    assert "California Housing: test RMSE in $100,000 (lower is better)" in out
    assert "[8/8]" in out and "10 (1%)" in out and "20 (10%)" in out
    path = written(out)
    assert path.parent.parent == tmp_path / "sklearn_tjepa_runs" and ROOT not in path.parents
    assert path.parent.name.startswith("few_labels-") and path.name == "few_labels.json"

    saved = json.loads(path.read_text())
    assert saved["dataset"]["code"] == "california_CA" and saved["metric"] == "rmse"
    assert saved["target_unit"] == "$100,000"
    assert saved["dataset"]["rows"] == {"train": 200, "val": 200, "test": 200}
    assert saved["gbdt"] == "catboost" and saved["gbdt_note"] is None
    assert saved["pretraining"]["epochs"] == 1 and saved["untrained"]["epochs"] == 0
    assert saved["tjepa_params"]["max_epochs"] == 1 and saved["tjepa_params"]["d_model"] == 8
    assert saved["finetune"]["estimator"] == "TJEPARegressor"
    assert saved["finetune"]["params"]["max_epochs"] == 1
    data = load_data("california", (("train", 200), ("val", 200), ("test", 200)), None)
    assert [row["fraction"] for row in saved["results"]] == [0.01, 0.1]
    for row in saved["results"]:
        assert row["labelled_rows"] == labelled_rows(data, row["fraction"], 0).size
        for model in ("pretrained", "untrained", "gbdt"):
            assert math.isfinite(row[model]["rmse"]) and row[model]["fit_seconds"] > 0
        assert row["pretrained"]["epochs"] == row["untrained"]["epochs"] == 1
    assert saved["peak_rss_mb"] > 0 and saved["versions"]["torch"] == torch.__version__
    assert saved["machine"]["torch_threads"] == torch.get_num_threads()
    assert {"cpu_count", "platform"} <= set(saved["machine"]) and "commit" in saved["git"]
    assert saved["results"] == run["results"]


def test_adult_without_catboost_uses_hist_gradient_boosting(few_labels, tmp_path, monkeypatch, capsys):
    make_gbdt = few_labels.make_gbdt

    def no_catboost(name, **kwargs):
        if name == "catboost":
            raise ImportError("No module named 'catboost'")
        return make_gbdt(name, **kwargs)

    monkeypatch.setattr(few_labels, "make_gbdt", no_catboost)
    few_labels.main([*QUICK, "--dataset", "adult", "--fractions", "0.05", "--out", str(tmp_path / "mine")])
    path = written(capsys.readouterr().out)
    assert path == tmp_path / "mine" / "few_labels.json"
    saved = json.loads(path.read_text())
    assert saved["dataset"]["code"] == "adult_AD" and saved["metric"] == "accuracy"
    assert saved["gbdt"] == "hist_gradient_boosting" and "CatBoost is not installed" in saved["gbdt_note"]
    assert saved["finetune"]["estimator"] == "TJEPAClassifier"
    (row,) = saved["results"]
    assert row["labelled_rows"] == 10  # 5 % of 200 rows is below the 10 labelled rows kept at least
    for model in ("pretrained", "untrained", "gbdt"):
        assert 0.0 <= row[model]["accuracy"] <= 1.0 and 0.0 <= row[model]["roc_auc"] <= 1.0


@pytest.mark.parametrize("argv, message", [
    (["--fractions", "0.1", "0"], "--fractions must be in (0, 1], got [0.0]"),
    (["--max-rows", "0"], "--max-rows must be at least 1, got 0"),
])
def test_bad_arguments_are_refused_before_any_work(few_labels, capsys, argv, message):
    with pytest.raises(SystemExit):
        few_labels.main(argv)
    assert message in capsys.readouterr().err
