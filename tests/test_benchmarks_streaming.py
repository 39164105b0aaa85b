"""Tests of benchmarks/make_large_table.py and of the helpers of benchmarks/streaming.py (the
measurements themselves are not run here)."""

import importlib.util
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import TINY_PARAMS

from sklearn_tjepa import TJEPATransformer

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


def test_partial_fit_validation_loss_is_fits(streaming, mixed_frame):
    """One partial_fit call with max_epochs=1 trains as fit; the helper gives fit's eval_set loss."""
    train, valid = mixed_frame.iloc[:90], mixed_frame.iloc[90:]
    params = dict(TINY_PARAMS, max_epochs=1, random_state=0)
    fitted = TJEPATransformer(**params).fit(train, eval_set=valid)
    incremental = TJEPATransformer(**params).partial_fit(train)
    assert streaming._partial_fit_valid_loss(incremental, valid) == fitted.history_[0]["valid_loss"]


def test_skip_fit_measures_the_transforms_only(streaming, tmp_path):
    results = streaming.main(
        ["--quick", "--in-process", "--name", "t", "--out", str(tmp_path), "--skip", "full", "peak_slice", "partial_fit", "fit"]
    )
    assert set(results) & {"full", "peak_slice", "partial_fit_against_fit"} == set()
    assert set(results["speed_slice"]) == {"stream_transform", "memory_transform"}
    assert results["speed_slice"]["stream_transform"]["rows"] == results["speed_slice"]["memory_transform"]["rows"] == 1000
