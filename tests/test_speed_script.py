"""Smoke test of benchmarks/speed.py: the --quick run finishes and writes the expected JSON."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


@pytest.fixture(scope="module")
def speed():
    spec = importlib.util.spec_from_file_location("speed_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
