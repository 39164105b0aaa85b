"""Tests of benchmarks/gpu_check.py that need no GPU: the refusal without CUDA, and the section
runner (a failing section is reported and the others still run; the time budget skips)."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def gpu_check():
    # the script puts the repository on sys.path and PYTHONPATH (for its subprocesses): undo both after
    saved_path, saved_env = list(sys.path), os.environ.get("PYTHONPATH")
    sys.path.insert(0, str(BENCHMARKS))  # gpu_check imports speed from beside it
    try:
        spec = importlib.util.spec_from_file_location("gpu_check_script", BENCHMARKS / "gpu_check.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_env


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_without_cuda_exits_2_with_a_clear_message(gpu_check, tmp_path, capsys):
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--out", str(out)]) == 2
    assert "gpu_check needs CUDA" in capsys.readouterr().err
    assert "torch.cuda.is_available() is False" in json.loads(out.read_text())["error"]


def test_a_failing_section_is_reported_and_the_next_runs(gpu_check):
    check = gpu_check.Check(budget_s=60)

    def broken():
        raise RuntimeError("no such kernel")

    assert check.run("matmul", broken) is None
    assert check.run("environment", lambda: {"ok": 1}) == {"ok": 1}
    assert check.sections["matmul"]["status"] == "failed"
    assert "RuntimeError: no such kernel" in check.sections["matmul"]["error"]
    assert check.sections["environment"]["status"] == "ok" and check.sections["environment"]["result"] == {"ok": 1}


def test_a_spent_budget_skips_sections(gpu_check):
    check = gpu_check.Check(budget_s=1)
    assert check.run("fit", lambda: pytest.fail("must not run")) is None
    assert check.sections["fit"]["status"] == "skipped"
