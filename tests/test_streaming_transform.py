"""Tests for sklearn_tjepa.streaming.transform.transform_dataset: the Parquet output equals
transform on the whole table, keeps row order and ids, and bad input is named."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from conftest import assert_same_embeddings, make_mixed_frame
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import transform_dataset
from sklearn_tjepa.streaming.transform import _TRANSPOSE_BLOCK_ROWS, _columns


def _write(path, frame, row_group_size=None):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return str(path)


@pytest.fixture
def frame():
    """130 mixed rows with missing values, and a row_id column that is not a feature."""
    return make_mixed_frame(n_rows=130, with_missing=True).assign(row_id=lambda f: np.arange(1000, 1130))


@pytest.fixture
def files(tmp_path, frame):
    """The frame in three files (listed out of name order) with row groups of 16 rows."""
    (tmp_path / "data").mkdir()
    parts = [(frame.iloc[:50], "c.parquet"), (frame.iloc[50:51], "a.parquet"), (frame.iloc[51:], "b.parquet")]
    return [_write(tmp_path / "data" / name, part, row_group_size=16) for part, name in parts]


@pytest.fixture
def fitted(make, frame):
    return make(max_epochs=1, output="mean").fit(frame.drop(columns="row_id"))


def test_output_equals_transform_of_the_whole_table(fitted, files, frame, tmp_path):
    out = transform_dataset(fitted, files, tmp_path / "emb.parquet", batch_rows=7, id_column="row_id")
    table = pq.read_table(out)
    assert table.column_names == ["row_id", *fitted.get_feature_names_out()]
    assert table.schema.field("row_id").type == pa.int64()
    embeddings = table.drop(["row_id"]).to_pandas().to_numpy()
    whole = pq.read_table(files).to_pandas()
    assert_same_embeddings(embeddings, fitted.transform(whole.drop(columns="row_id")))
    # the files are read in the order given, rows in file order: the in-memory frame's order
    assert table.column("row_id").to_pylist() == frame["row_id"].tolist()
    assert_same_embeddings(embeddings, fitted.transform(frame.drop(columns="row_id")))
    # a batch never spans row groups: row groups of 16 rows and batches of 7 give 7, 7, 2, ...
    assert pq.ParquetFile(out).metadata.row_group(2).num_rows == 2


def test_embeddings_are_written_plain_and_uncompressed_the_id_column_with_pyarrow_defaults(fitted, files, tmp_path):
    out = transform_dataset(fitted, files, tmp_path / "emb.parquet", batch_rows=7, id_column="row_id")
    metadata = pq.read_metadata(out)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        identifier, *embedding = (row_group.column(j) for j in range(row_group.num_columns))
        assert identifier.path_in_schema == "row_id"
        assert "RLE_DICTIONARY" in identifier.encodings and identifier.compression == "SNAPPY"
        assert identifier.is_stats_set
        for column in embedding:
            assert "RLE_DICTIONARY" not in column.encodings, column.path_in_schema
            assert column.compression == "UNCOMPRESSED", column.path_in_schema
            assert not column.is_stats_set, column.path_in_schema
    # without an id column, every column is an embedding column
    row_group = pq.read_metadata(transform_dataset(fitted, files, tmp_path / "bare.parquet")).row_group(0)
    assert not any("RLE_DICTIONARY" in row_group.column(j).encodings for j in range(row_group.num_columns))
    assert {row_group.column(j).compression for j in range(row_group.num_columns)} == {"UNCOMPRESSED"}


def test_embedding_columns_are_required_and_the_id_column_nullable(fitted, files, tmp_path):
    # NaN is a value, not a null: a NumPy output has no nulls, so no definition levels are written
    out = transform_dataset(fitted, files, tmp_path / "emb.parquet", id_column="row_id")
    schema = pq.read_schema(out)
    assert schema.field("row_id").nullable
    assert not any(field.nullable for field in schema if field.name != "row_id")
    parquet_schema = pq.read_metadata(out).schema
    assert [parquet_schema.column(j).max_definition_level for j in range(len(schema))] == [1] + [0] * (len(schema) - 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_columns_are_the_transpose_in_c_order_across_blocks(dtype):
    # two full blocks of rows and a ragged one
    embeddings = np.random.default_rng(0).normal(size=(2 * _TRANSPOSE_BLOCK_ROWS + 7, 5)).astype(dtype)
    columns = _columns(embeddings)
    assert columns.flags.c_contiguous and columns.dtype == dtype
    np.testing.assert_array_equal(columns, embeddings.T)


def test_directory_and_dataset_sources(fitted, files, frame, tmp_path):
    expected = fitted.transform(frame.drop(columns="row_id"))
    dataset_out = transform_dataset(fitted, ds.dataset(files, format="parquet"), tmp_path / "d.parquet")
    assert_same_embeddings(pq.read_table(dataset_out).to_pandas().to_numpy(), expected)
    # a directory is read in sorted order: a.parquet (row 50), b.parquet (51-129), c.parquet (0-49)
    directory_out = transform_dataset(fitted, tmp_path / "data", tmp_path / "e.parquet", id_column="row_id")
    ids = pq.read_table(directory_out).column("row_id").to_pylist()
    assert ids == [1050, *range(1051, 1130), *range(1000, 1050)]


def test_estimator_fitted_without_column_names_reads_every_column_but_the_id(make, tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 4))
    fitted = make(max_epochs=1, output="cls").fit(X)
    path = _write(tmp_path / "x.parquet", pd.DataFrame(X, columns=list("abcd")).assign(key=range(40)), 10)
    out = transform_dataset(fitted, path, tmp_path / "emb.parquet", id_column="key")
    table = pq.read_table(out)
    assert_same_embeddings(table.drop(["key"]).to_pandas().to_numpy(), fitted.transform(X))
    with pytest.raises(ValueError, match=r"fitted on 4 features without column names.*5 columns besides id_column=None"):
        transform_dataset(fitted, path, tmp_path / "emb2.parquet")


def test_any_fitted_transformer_and_pandas_output(files, frame, tmp_path):
    numeric = frame[["age", "count"]]
    scaler = make_pipeline(StandardScaler()).set_output(transform="pandas").fit(numeric)
    out = transform_dataset(scaler, files, tmp_path / "scaled.parquet", batch_rows=20)
    table = pq.read_table(out)
    assert table.column_names == ["age", "count"]
    np.testing.assert_allclose(table.to_pandas().to_numpy(), scaler.transform(numeric).to_numpy())


def test_missing_feature_column_names_file_and_column(fitted, files, frame, tmp_path):
    bad = _write(tmp_path / "d.parquet", frame.drop(columns="city"))
    with pytest.raises(ValueError, match=r"The Parquet file '.*d\.parquet' has no column 'city'"):
        transform_dataset(fitted, [*files, bad], tmp_path / "emb.parquet")
    assert not list(tmp_path.glob("*emb*"))  # no output, not even a temporary file


def test_changed_type_names_file_and_column(fitted, files, frame, tmp_path):
    bad = _write(tmp_path / "d.parquet", frame.assign(age=frame["age"].astype(str)))
    with pytest.raises(ValueError, match=r"column 'age' of the Parquet file '.*d\.parquet' has type string, but type double"):
        transform_dataset(fitted, [*files, bad], tmp_path / "emb.parquet")


def test_empty_file_is_named(fitted, files, frame, tmp_path):
    empty = _write(tmp_path / "d.parquet", frame.iloc[:0])
    with pytest.raises(ValueError, match=r"'.*d\.parquet' holds no rows"):
        transform_dataset(fitted, [*files, empty], tmp_path / "emb.parquet")


def test_missing_id_column(fitted, files, tmp_path):
    with pytest.raises(ValueError, match=r"'.*c\.parquet' has no column 'key'"):
        transform_dataset(fitted, files, tmp_path / "emb.parquet", id_column="key")
    with pytest.raises(TypeError, match="id_column must be None or a column name"):
        transform_dataset(fitted, files, tmp_path / "emb.parquet", id_column=3)
    with pytest.raises(ValueError, match="batch_rows must be a positive int, got batch_rows=0"):
        transform_dataset(fitted, files, tmp_path / "emb.parquet", batch_rows=0)


def test_file_that_disappears_midway_leaves_the_previous_output(fitted, files, tmp_path, monkeypatch):
    destination = tmp_path / "emb.parquet"
    destination.write_bytes(b"previous output")
    transform = type(fitted).transform

    def transform_then_delete(self, X):
        (tmp_path / "data" / "b.parquet").unlink(missing_ok=True)
        return transform(self, X)

    monkeypatch.setattr(type(fitted), "transform", transform_then_delete)
    with pytest.raises(FileNotFoundError, match=r"The Parquet file '.*b\.parquet' disappeared"):
        transform_dataset(fitted, files, destination)
    assert destination.read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "emb.parquet"]  # no temporary file left


def test_unfitted_estimator(make, files, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        transform_dataset(make(), files, tmp_path / "emb.parquet")


def test_id_column_named_like_an_output_column_is_refused(make, tmp_path):
    # a file with two fields of one name was written before
    X = np.random.default_rng(0).normal(size=(40, 3))
    fitted = make(max_epochs=1, output="cls").fit(X)
    frame = pd.DataFrame(X, columns=list("abc")).assign(tjepatransformer0=range(40))
    path = _write(tmp_path / "x.parquet", frame, 10)
    with pytest.raises(ValueError, match="id_column='tjepatransformer0' is also the name of an output column"):
        transform_dataset(fitted, path, tmp_path / "emb.parquet", id_column="tjepatransformer0")
    assert not (tmp_path / "emb.parquet").exists()
