"""benchmarks/pretraining_eval.py (the paired pretrained-vs-untrained probe evaluation) on a
few hundred California rows with a tiny encoder: every representation gets its probe scores on
val and test, and the paired differences are computed."""

import importlib.util
from pathlib import Path

import pytest
from sklearn.utils import Bunch

from sklearn_tjepa import datasets, load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TINY = {"d_model": 8, "n_layers": 1, "n_heads": 2, "ffn_dim": 16, "predictor_d_model": 8,
        "predictor_n_layers": 1, "predictor_n_heads": 2, "predictor_ffn_dim": 16, "max_epochs": 1}


@pytest.fixture
def pretraining_eval(monkeypatch):
    """The script as a module (it imports _common from its folder)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("pretraining_eval_script", BENCHMARKS / "pretraining_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def small_california(monkeypatch):
    """200 / 100 / 100 rows of the shipped California table."""
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    bunch = load_benchmark("california")
    splits = {name: rows[:size] for (name, rows), size in zip(bunch.splits.items(), (200, 100, 100))}
    return Bunch(**{**bunch, "splits": splits})


def test_evaluate_scores_raw_untrained_and_each_variant_and_pairs_them(pretraining_eval, small_california):
    variants = {"pretrained": {}}
    run = pretraining_eval.evaluate(small_california, TINY, variants, 0, probe_names=["linear"], with_raw=True)
    for split in ("val", "test"):
        assert set(run[split]) == {"raw/linear", "untrained/linear", "pretrained/linear",
                                   "untrained+raw/linear", "pretrained+raw/linear"}
        assert all(scores["rmse"] > 0 for scores in run[split].values())
    summary = pretraining_eval.summarise([run, {**run, "seed": 1}], variants)
    assert summary["val"]["pretrained/linear/rmse"]["minus_untrained"]["n"] == 2
