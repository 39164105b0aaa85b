"""Smoke tests of benchmarks/speed.py: the --quick runs (speed, attention profile, scaling) finish
and write the expected JSON; the plain reference loop computes the estimator's objective."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "speed.py"


@pytest.fixture(scope="module")
def speed():
    spec = importlib.util.spec_from_file_location("speed_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))  # the script imports _common from its folder
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def test_default_out_is_a_new_run_folder_under_the_current_directory(speed, tmp_path, monkeypatch, capsys):
    """Without --out nothing is written into the repository: a fresh run folder, its path printed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(speed, "profile_attention", lambda *args, **kwargs: [])  # no measuring here
    speed.main(["--quick", "--attention-profile", "--precision", "32", "--name", "smoke"])
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]
    path = Path(line.removeprefix("wrote "))
    assert path.name == "smoke.json" and json.loads(path.read_text())["name"] == "smoke"
    assert path.parent.parent == tmp_path / "sklearn_tjepa_runs" and path.parent.name.startswith("speed-")
    assert ROOT not in path.parents and not (tmp_path / "results").exists()


def test_quick_run_writes_results(speed, tmp_path):
    results = speed.main(["--quick", "--name", "smoke", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "smoke.json").read_text())
    assert written["name"] == "smoke"
    assert set(written["matmul"]) == {"float32", "bfloat16"}
    assert written["matmul"]["float32"]["gflops"] > 0
    assert written["machine"]["torch_threads"] >= 1
    entry = written["configs"]["quick"]
    assert entry["flops_per_sample"] > 0
    measured = entry["32"]
    assert set(measured) == {"ours", "plain", "transform"}
    for kind in ("ours", "plain"):
        assert measured[kind]["samples_per_second"] > 0
        assert measured[kind]["peak_memory_mb"] > 0
        assert 0 < measured[kind]["share_of_matmul_peak"]
    assert measured["transform"]["rows_per_second"] > 0
    # the counter saw the attention kernels (added by the script for the CPU flash kernels)
    assert any("attention" in op for op in measured["plain"]["flops"]["by_op_per_step"])
    assert results["configs"]["quick"]["flops_per_sample"] == entry["flops_per_sample"]


def test_plain_loop_hides_inputs_like_the_estimator(speed, monkeypatch):
    """The plain reference computes the estimator's objective: same missing_share and target_norm,
    with a missing-input generator."""
    from sklearn_tjepa import TJEPATransformer

    seen = []
    real = speed.jepa_loss

    def recording(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(speed, "jepa_loss", recording)
    result = speed.measure_plain(speed.QUICK_CONFIG, "32", steps=2, epochs=2, count_flops=False)
    defaults = TJEPATransformer()
    assert result["missing_share"] == defaults.missing_share > 0
    assert seen and all(k["missing_share"] == defaults.missing_share for k in seen)
    assert all(k["target_norm"] == defaults.target_norm and k["missing_generator"] is not None for k in seen)


def test_quick_attention_profile(speed, tmp_path):
    results = speed.main(["--quick", "--attention-profile", "--precision", "32", "--name", "attention", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "attention.json").read_text())["attention"]["rows"]
    assert rows == results["attention"]["rows"]
    assert {row["path"] for row in rows} == {"sdpa", "explicit", "sdpa+dropout", "package+dropout", "explicit+dropout"}
    assert all(row["forward_ms"] > 0 and row["forward_backward_ms"] > 0 for row in rows)


def test_attention_paths_agree_without_dropout(speed):
    q, k, v = torch.randn(3, 2, 3, 5, 4).unbind(0)
    paths = speed.attention_paths(dropout=0.1)
    reference = paths["sdpa"][0](q, k, v)
    for name in ("explicit", "sdpa_fp32"):
        torch.testing.assert_close(paths[name][0](q, k, v), reference)


def test_quick_scaling_writes_json_and_plot(speed, tmp_path):
    plot = tmp_path / "scaling.png"
    speed.main(["--quick", "--scaling", "--name", "scaling", "--out", str(tmp_path), "--plot", str(plot)])
    written = json.loads((tmp_path / "scaling.json").read_text())["scaling"]
    assert [p["rows"] for p in written["fit"]] == [p["rows"] for p in written["transform"]] == [64, 128]
    assert all(p["fit_seconds"] > 0 and p["peak_memory_mb"] > 0 for p in written["fit"])
    assert all(p["transform_seconds"] > 0 and p["output_mb"] > 0 for p in written["transform"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
