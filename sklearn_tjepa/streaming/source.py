"""A Parquet dataset on disk, checked file by file and read one row group at a time.

:class:`ParquetSource` opens a directory, a file, a list of files or a
:class:`pyarrow.dataset.Dataset`, reads every file's footer (never its rows) and refuses, naming
the file and the column, a file that cannot be read as Parquet, holds no rows, lacks a column or
stores a column with another type than the first file that has it. Reading then goes row group
by row group, so memory depends on the size of a row group, not on the number of rows, and a
file that disappears or changes while it is read raises an error that names it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

__all__ = ["RowGroup", "ParquetSource", "as_parquet_files", "is_parquet_source"]


@dataclass(frozen=True)
class RowGroup:
    """One row group of one file of a :class:`ParquetSource`.

    Attributes
    ----------
    file : int
        Position of the file in :attr:`ParquetSource.files`.
    index : int
        Position of the row group in its file.
    n_rows : int
        Rows it holds.
    """

    file: int
    index: int
    n_rows: int


def is_parquet_source(X) -> bool:
    """Whether ``X`` names Parquet files (a path, a list of paths or a dataset) rather than rows."""
    if isinstance(X, (ds.Dataset, str, os.PathLike)):
        return True
    return isinstance(X, (list, tuple)) and len(X) > 0 and all(isinstance(item, (str, os.PathLike)) for item in X)


def as_parquet_files(source) -> tuple[list[str], pa.fs.FileSystem]:
    """The Parquet files of ``source`` and the filesystem that holds them, without opening them.

    Parameters
    ----------
    source : str, path-like, list of them, or pyarrow.dataset.Dataset
        A Parquet file, a directory (its files, recursively, in sorted order; names starting
        with ``.`` or ``_`` are skipped, as by :func:`pyarrow.dataset.dataset`), a list of files
        (in the given order), or a dataset of Parquet files (in its order).

    Raises
    ------
    TypeError
        For another kind of ``source``, or a dataset that is not made of Parquet files.
    FileNotFoundError
        For a path that does not exist.
    ValueError
        When ``source`` holds no file.
    """
    if isinstance(source, ds.Dataset):
        if not isinstance(source, ds.FileSystemDataset) or not isinstance(source.format, ds.ParquetFileFormat):
            raise TypeError(
                f"source must be a dataset of Parquet files, got a {type(source).__name__} of format "
                f"{getattr(source, 'format', None)!r}"
            )
        files, filesystem = list(source.files), source.filesystem
    else:
        if isinstance(source, (str, os.PathLike)):
            paths = os.fspath(source)
        elif isinstance(source, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in source):
            paths = [os.fspath(p) for p in source]
        else:
            raise TypeError(
                "source must be a path to a Parquet file or directory, a list of Parquet files or a "
                f"pyarrow.dataset.Dataset, got {type(source).__name__}"
            )
        # an explicit (empty) schema: list the files without opening any of them
        dataset = ds.dataset(paths, format="parquet", schema=pa.schema([]))
        files, filesystem = list(dataset.files), dataset.filesystem
    if not files:
        raise ValueError(f"source holds no Parquet file, got source={source!r}")
    return files, filesystem


def _value_type(data_type: pa.DataType) -> pa.DataType:
    """The type of the values, whatever their encoding: a dictionary-encoded column counts as its
    value type, and large strings (pandas' ``str``) as strings."""
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_large_string(data_type) or pa.types.is_string_view(data_type):
        return pa.string()
    return data_type


class ParquetSource:
    """Parquet files with the same columns, checked up front and read row group by row group.

    Parameters
    ----------
    source : str, path-like, list of them, or pyarrow.dataset.Dataset
        See :func:`as_parquet_files`.
    columns : sequence of str or None, default=None
        The columns to read, in this order; None takes the columns of the dataset's schema for
        a :class:`pyarrow.dataset.Dataset` (so that a schema given to
        :func:`pyarrow.dataset.dataset` selects columns), every column of the first file
        otherwise. Other columns of the files are never read.

    Attributes
    ----------
    files : list of str
        The files, in reading order.
    columns : list of str
        The columns read.
    types : dict of str to pyarrow.DataType
        Each column's type, from the first file that stores it with values (a column of nulls
        only, type ``null``, fits any type). Encodings do not count: a dictionary-encoded
        column has the type of its values, and large strings are strings.
    row_groups : list of RowGroup
        Every row group of every file, in reading order.
    n_rows : int
        Rows in all files.

    Raises
    ------
    ValueError
        Naming the file, for a file that cannot be read as Parquet (e.g. zero bytes), that holds
        no rows, that lacks one of ``columns`` or that stores one with another type than the
        first file.
    """

    def __init__(self, source, *, columns: Sequence[str] | None = None):
        self.files, self._filesystem = as_parquet_files(source)
        schemas = []
        self.row_groups: list[RowGroup] = []
        for position, path in enumerate(self.files):
            metadata = self._footer(path)
            if metadata.num_rows == 0:
                raise ValueError(f"The Parquet file {path!r} holds no rows: remove it from the dataset.")
            schemas.append(metadata.schema.to_arrow_schema())
            self.row_groups.extend(
                RowGroup(position, index, metadata.row_group(index).num_rows)
                for index in range(metadata.num_row_groups)
                if metadata.row_group(index).num_rows
            )
        if columns is None:
            columns = source.schema.names if isinstance(source, ds.Dataset) else schemas[0].names
        self.columns = list(columns)
        self.types: dict[str, pa.DataType] = {}
        self._typed_by: dict[str, str] = {}
        for path, schema in zip(self.files, schemas):
            for name in self.columns:
                self._check_column(path, schema, name)
        for name in self.columns:
            self.types.setdefault(name, pa.null())
        self.n_rows = sum(group.n_rows for group in self.row_groups)

    def _footer(self, path: str) -> pq.FileMetaData:
        try:
            with self._filesystem.open_input_file(path) as stream:
                return pq.ParquetFile(stream).metadata
        except FileNotFoundError:
            raise
        except (OSError, pa.ArrowException) as error:
            raise ValueError(f"The file {path!r} cannot be read as Parquet ({error}).") from error

    def _check_column(self, path: str, schema: pa.Schema, name: str) -> None:
        """Raise unless ``schema`` (of ``path``) stores ``name`` with the type seen before."""
        index = schema.get_field_index(name)
        if index < 0:
            raise ValueError(
                f"The Parquet file {path!r} has no column {name!r}; every file must hold the columns "
                f"{self.columns} (its columns are {schema.names})."
            )
        data_type = _value_type(schema.field(index).type)
        if pa.types.is_null(data_type):
            return
        if name not in self.types:
            self.types[name], self._typed_by[name] = data_type, path
        elif data_type != self.types[name]:
            raise ValueError(
                f"The column {name!r} of the Parquet file {path!r} has type {data_type}, but type "
                f"{self.types[name]} in the file {self._typed_by[name]!r}: a column must have one type in "
                "every file (cast it when writing the files)."
            )

    def read(self, row_group: RowGroup, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """The rows of ``row_group`` (its :attr:`columns`), in batches of at most ``batch_rows``.

        Raises
        ------
        FileNotFoundError
            Naming the file, when it has disappeared since the source was opened.
        ValueError
            Naming the file (and the column), when it can no longer be read or a column's type
            has changed since the source was opened.
        """
        path = self.files[row_group.file]
        try:
            with self._filesystem.open_input_file(path) as stream:
                reader = pq.ParquetFile(stream)
                for batch in reader.iter_batches(
                    batch_size=batch_rows, row_groups=[row_group.index], columns=self.columns
                ):
                    batch = batch.select(self.columns)
                    for name, field in zip(self.columns, batch.schema):
                        self._check_type(path, name, field.type)
                    yield batch
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"The Parquet file {path!r} disappeared while it was being read (it was there when the "
                f"dataset was opened): {error}"
            ) from error
        except (OSError, pa.ArrowException) as error:
            raise ValueError(
                f"The Parquet file {path!r} could not be read (it changed since the dataset was opened?): {error}"
            ) from error

    def _check_type(self, path: str, name: str, data_type: pa.DataType) -> None:
        data_type = _value_type(data_type)
        expected = self.types[name]
        if not pa.types.is_null(data_type) and not pa.types.is_null(expected) and data_type != expected:
            raise ValueError(
                f"The column {name!r} of the Parquet file {path!r} has type {data_type}, but type {expected} "
                "when the dataset was opened: a column must have one type in every file."
            )

    def batches(self, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Every row, in file and row-group order, in batches of at most ``batch_rows``."""
        for row_group in self.row_groups:
            yield from self.read(row_group, batch_rows=batch_rows)

    @staticmethod
    def to_frame(batch: pa.RecordBatch) -> pd.DataFrame:
        """``batch`` as a DataFrame (dictionary columns become ``category``, strings ``str``)."""
        return batch.to_pandas()
