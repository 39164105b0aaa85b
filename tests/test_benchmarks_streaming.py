"""Tests of benchmarks/make_large_table.py and of benchmarks/streaming.py: its helpers, where it
writes, and its partial_fit comparison on a tiny table (the memory and speed measurements are not
run here)."""

import importlib.util
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import TINY_PARAMS


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.fixture(scope="module")
def make_large_table():
    return _load("make_large_table")


@pytest.fixture(scope="module")
def streaming():
    return _load("streaming")


def test_table_shape_types_row_groups_and_seed(make_large_table, tmp_path):
    summary = make_large_table.main(["--rows", "2500", "--files", "2", "--row-group-rows", "400", "--out", str(tmp_path / "a")])
    files = sorted((tmp_path / "a").glob("*.parquet"))
    assert summary["rows"] == 2500 and len(files) == 2
    assert [pq.ParquetFile(f).metadata.row_group(0).num_rows for f in files] == [400, 400]
    assert summary["row_groups"] == 2 * 4  # 1250 rows per file: 400, 400, 400, 50
    table = pq.read_table(files)
    assert table.shape == (2500, 50)
    assert [str(t) for t in table.schema.types].count("float") == 40
    assert 0.02 < table.column("num_3").null_count / 2500 < 0.08  # NaN written as null
    assert 0.02 < table.column("cat_0").null_count / 2500 < 0.08
    make_large_table.main(["--rows", "2500", "--files", "2", "--row-group-rows", "400", "--out", str(tmp_path / "b")])
    assert pq.read_table(sorted((tmp_path / "b").glob("*.parquet"))).equals(table)


def test_slice_copies_the_first_rows(streaming, make_large_table, tmp_path):
    make_large_table.main(["--rows", "900", "--files", "3", "--row-group-rows", "200", "--out", str(tmp_path / "t")])
    sliced = streaming.write_slice(tmp_path / "t", 500, tmp_path / "slice.parquet")
    assert pq.read_table(sliced).equals(pq.read_table(sorted((tmp_path / "t").glob("*.parquet"))).slice(0, 500))


def test_default_out_is_a_new_run_folder_under_the_current_directory(streaming, tmp_path, monkeypatch, capsys):
    """Without --out nothing is written into the repository: a fresh run folder, its path printed.
    Every measurement is skipped (only the generated table and an untrained model are made)."""
    monkeypatch.chdir(tmp_path)
    streaming.main(["--quick", "--name", "smoke", "--skip", "full", "peak_slice", "speed_slice", "partial_fit"])
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("written to ")]
    path = Path(line.removeprefix("written to "))
    assert path.name == "smoke.json" and json.loads(path.read_text())["name"] == "smoke"
    assert path.parent.parent == tmp_path / "sklearn_tjepa_runs" and path.parent.name.startswith("streaming-")
    assert BENCHMARKS.parent not in path.parents and not (tmp_path / "results").exists()


def test_partial_fit_against_fit_gives_fits_loss_for_one_chunk(streaming, make_large_table, tmp_path):
    """One chunk, max_epochs=1: partial_fit trains as fit, and the script reports the same loss."""
    make_large_table.main(["--rows", "300", "--files", "1", "--row-group-rows", "100", "--out", str(tmp_path / "t")])
    params = dict(TINY_PARAMS, max_epochs=1)
    result = streaming.partial_fit_against_fit(tmp_path / "t", chunks=1, chunk_rows=200, valid_rows=100, params=params)
    assert result["partial_fit"]["valid_loss"] == result["fit"]["valid_loss"]
    assert result["partial_fit"]["steps"] == result["fit"]["steps"] == 7


def test_skip_fit_measures_the_transforms_only(streaming, tmp_path):
    results = streaming.main(
        ["--quick", "--in-process", "--name", "t", "--out", str(tmp_path), "--skip", "full", "peak_slice", "partial_fit", "fit"]
    )
    assert set(results) & {"full", "peak_slice", "partial_fit_against_fit"} == set()
    assert set(results["speed_slice"]) == {"stream_transform", "memory_transform"}
    assert results["speed_slice"]["stream_transform"]["rows"] == results["speed_slice"]["memory_transform"]["rows"] == 1000
