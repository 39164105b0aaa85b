"""benchmarks/adult_probe.py (the main job) on a few Adult rows and a tiny model: it writes its
results to a folder of the user's, never into the repository, under keys that say what they hold."""

import importlib.util
import json
import os
from pathlib import Path

import pytest
import torch
from conftest import TINY_PARAMS

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture
def adult_probe(monkeypatch):
    """The script as a module, on 200 train and 100 test rows, with a tiny 1-epoch T-JEPA."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports _common from its folder
    spec = importlib.util.spec_from_file_location("adult_probe_script", BENCHMARKS / "adult_probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    load_benchmark, probe_pipeline = module.load_benchmark, module.probe_pipeline

    def few_rows(name, **kwargs):
        bunch = load_benchmark(name, **kwargs)
        bunch.splits = {"train": bunch.splits["train"][:200], "test": bunch.splits["test"][:100]}
        return bunch

    def tiny(head, **params):
        return probe_pipeline(head, **{**TINY_PARAMS, **params})

    monkeypatch.setattr(module, "load_benchmark", few_rows)
    monkeypatch.setattr(module, "probe_pipeline", tiny)
    return module


def written(capsys) -> Path:
    """The path the script printed it wrote to."""
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("written to ")]
    return Path(line.removeprefix("written to "))


def test_default_output_is_a_new_folder_under_the_current_directory(adult_probe, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    adult_probe.main(["--epochs", "1", "--verbose", "0"])
    path = written(capsys)
    assert path.parent.parent == tmp_path / "sklearn_tjepa_runs"
    assert path.parent.name.startswith("adult_probe-") and path.name == "adult_probe.json"
    machine = json.loads(path.read_text())["machine"]
    assert machine["cpu_count"] == os.cpu_count()
    assert machine["torch_threads"] == torch.get_num_threads()


def test_out_names_the_folder(adult_probe, tmp_path, capsys):
    adult_probe.main(["--epochs", "1", "--verbose", "0", "--out", str(tmp_path / "mine")])
    path = written(capsys)
    assert path == tmp_path / "mine" / "adult_probe.json"
    assert json.loads(path.read_text())["results"]["tjepa_probe"]["epochs"] == 1
