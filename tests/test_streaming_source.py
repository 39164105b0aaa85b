"""Tests for sklearn_tjepa.streaming.source: discovery, per-file checks and row-group reading."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from sklearn_tjepa.streaming.source import ParquetSource, RowGroup, as_parquet_files


def _write(path, frame, row_group_size=None):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return str(path)


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=10), "colour": rng.choice(["red", "blue"], 10), "n": np.arange(10)})


def test_directory_is_read_in_sorted_order_row_group_by_row_group(tmp_path, frame):
    _write(tmp_path / "b.parquet", frame.iloc[4:], row_group_size=4)
    _write(tmp_path / "a.parquet", frame.iloc[:4])
    _write(tmp_path / "_metadata_like.parquet", frame)  # skipped, as by pyarrow.dataset
    source = ParquetSource(tmp_path)
    assert [f.rsplit("/", 1)[-1] for f in source.files] == ["a.parquet", "b.parquet"]
    assert source.row_groups == [RowGroup(0, 0, 4), RowGroup(1, 0, 4), RowGroup(1, 1, 2)]
    assert source.n_rows == 10 and source.columns == ["x", "colour", "n"]
    batches = list(source.batches(batch_rows=3))
    assert [b.num_rows for b in batches] == [3, 1, 3, 1, 2]  # a batch never spans row groups
    read = pd.concat([ParquetSource.to_frame(b) for b in batches], ignore_index=True)
    assert read["n"].tolist() == list(range(10))


def test_columns_are_read_in_the_order_asked(tmp_path, frame):
    path = _write(tmp_path / "a.parquet", frame)
    source = ParquetSource([path], columns=["n", "x"])
    (batch,) = source.batches(batch_rows=100)
    assert batch.schema.names == ["n", "x"]


def test_list_and_dataset_sources_keep_their_order(tmp_path, frame):
    first, second = _write(tmp_path / "z.parquet", frame.iloc[:5]), _write(tmp_path / "a.parquet", frame.iloc[5:])
    assert as_parquet_files([first, second])[0] == [first, second]
    dataset = ds.dataset([first, second], format="parquet")
    assert ParquetSource(dataset).files == [first, second]


@pytest.mark.parametrize("source,error,match", [
    (3, TypeError, "source must be a path"),
    (pa.table({"a": [1]}), TypeError, "source must be a path"),
])
def test_bad_source_kinds(source, error, match):
    with pytest.raises(error, match=match):
        ParquetSource(source)


def test_in_memory_dataset_is_refused():
    with pytest.raises(TypeError, match="dataset of Parquet files"):
        ParquetSource(ds.dataset(pa.table({"a": [1]})))


def test_empty_directory_and_missing_path(tmp_path):
    with pytest.raises(ValueError, match="holds no Parquet file"):
        ParquetSource(tmp_path)
    with pytest.raises(FileNotFoundError, match="nothing.parquet"):
        ParquetSource(tmp_path / "nothing.parquet")


def test_file_without_rows_and_file_of_zero_bytes_are_named(tmp_path, frame):
    good = _write(tmp_path / "a.parquet", frame)
    empty = _write(tmp_path / "b.parquet", frame.iloc[:0])
    with pytest.raises(ValueError, match=r"The Parquet file '.*b\.parquet' holds no rows"):
        ParquetSource([good, empty])
    (tmp_path / "c.parquet").write_bytes(b"")
    with pytest.raises(ValueError, match=r"The file '.*c\.parquet' cannot be read as Parquet"):
        ParquetSource([good, str(tmp_path / "c.parquet")])


def test_missing_column_names_file_and_column(tmp_path, frame):
    good = _write(tmp_path / "a.parquet", frame)
    bad = _write(tmp_path / "b.parquet", frame.drop(columns=["colour"]))
    with pytest.raises(ValueError, match=r"The Parquet file '.*b\.parquet' has no column 'colour'"):
        ParquetSource([good, bad])
    # a column the caller asks for that the first file lacks
    with pytest.raises(ValueError, match=r"'.*a\.parquet' has no column 'age'"):
        ParquetSource([good], columns=["x", "age"])


def test_changed_type_names_file_column_and_both_types(tmp_path, frame):
    good = _write(tmp_path / "a.parquet", frame)
    bad = _write(tmp_path / "b.parquet", frame.assign(n=frame["n"].astype(str)))
    with pytest.raises(ValueError, match=r"column 'n' of the Parquet file '.*b\.parquet' has type string, but type int64 in the file '.*a\.parquet'"):
        ParquetSource([good, bad])


def test_null_column_and_dictionary_encoding_fit_any_file(tmp_path, frame):
    first = _write(tmp_path / "a.parquet", frame.assign(colour=pd.Series([None] * 10, dtype=object)))
    second = _write(tmp_path / "b.parquet", frame.assign(colour=frame["colour"].astype("category")))
    third = _write(tmp_path / "c.parquet", frame)
    source = ParquetSource([first, second, third])
    assert source.types["colour"] == pa.string()
    assert sum(b.num_rows for b in source.batches(batch_rows=7)) == 30


def test_file_that_disappears_while_reading_is_named(tmp_path, frame):
    first, second = _write(tmp_path / "a.parquet", frame), _write(tmp_path / "b.parquet", frame)
    source = ParquetSource([first, second])
    batches = source.batches(batch_rows=4)
    next(batches)
    (tmp_path / "b.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=r"The Parquet file '.*b\.parquet' disappeared"):
        list(batches)


def test_file_whose_type_changes_after_opening_is_named(tmp_path, frame):
    first, second = _write(tmp_path / "a.parquet", frame), _write(tmp_path / "b.parquet", frame)
    source = ParquetSource([first, second])
    _write(tmp_path / "b.parquet", frame.assign(x=frame["x"].astype(str)))
    with pytest.raises(ValueError, match=r"column 'x' of the Parquet file '.*b\.parquet' has type string, but type double"):
        list(source.batches(batch_rows=100))
