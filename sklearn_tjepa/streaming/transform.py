"""Embed a Parquet dataset larger than memory, batch by batch, into a Parquet file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.utils.validation import check_is_fitted

from sklearn_tjepa.streaming.source import ParquetSource
from sklearn_tjepa.validation import check_int

__all__ = ["transform_dataset"]

#: Rows of a batch's embeddings transposed at a time into the output's columns.
_TRANSPOSE_BLOCK_ROWS = 512


def _output_names(estimator, width: int) -> list[str]:
    if hasattr(estimator, "get_feature_names_out"):
        return [str(name) for name in estimator.get_feature_names_out()]
    return [str(j) for j in range(width)]


def _columns(embeddings: np.ndarray) -> np.ndarray:
    """The columns of ``embeddings``, each one contiguous: ``embeddings.T`` in C order.

    The copy goes ``_TRANSPOSE_BLOCK_ROWS`` rows at a time, so that a block stays in the cache
    while it is scattered into the columns; numpy's ``ascontiguousarray(embeddings.T)`` reads a
    wide batch down its columns, a whole row apart per value, which the cache serves poorly.

    Shape
    -----
    - embeddings: ``(n_rows, n_columns)``
    - output: ``(n_columns, n_rows)``
    """
    columns = np.empty(embeddings.shape[::-1], dtype=embeddings.dtype)
    for start in range(0, len(embeddings), _TRANSPOSE_BLOCK_ROWS):
        stop = start + _TRANSPOSE_BLOCK_ROWS
        columns[:, start:stop] = embeddings[start:stop].T
    return columns


def _writer(path: str, schema: pa.Schema, id_column: str | None) -> pq.ParquetWriter:
    """A Parquet writer that keeps pyarrow's defaults for ``id_column`` only.

    The embedding columns are written plain (no dictionary), uncompressed and without
    statistics; the reasons are in the Notes of :func:`transform_dataset`.
    """
    kept = [id_column] if id_column is not None else []
    return pq.ParquetWriter(
        path,
        schema,
        use_dictionary=kept or False,
        write_statistics=kept or False,
        compression={name: "snappy" if name in kept else "none" for name in schema.names},
    )


def transform_dataset(estimator, source, destination, *, batch_rows=16_384, id_column=None) -> Path:
    """Embed every row of a Parquet dataset with ``estimator.transform`` into a Parquet file.

    The rows are read ``batch_rows`` at a time (at most one row group per batch), transformed
    and appended to ``destination``, so memory depends on ``batch_rows`` and on the size of the
    source's row groups, not on the number of rows. The output keeps the rows in the order of
    the source (files in order, rows in file order), and equals ``estimator.transform`` on the
    whole table read into memory.

    Parameters
    ----------
    estimator : fitted transformer
        A fitted :class:`~sklearn_tjepa.TJEPATransformer`, or another fitted scikit-learn
        transformer with dense output and ``get_feature_names_out`` (a ``Pipeline`` too). Fitted on a DataFrame, it reads the columns of its
        ``feature_names_in_``; fitted without column names, every column of the source but
        ``id_column``, in the order of the first file.
    source : str, path-like, list of them, or pyarrow.dataset.Dataset
        A Parquet file, a directory of Parquet files (read in sorted order), a list of files (in
        the given order) or a :class:`pyarrow.dataset.Dataset` of Parquet files. Every file must
        hold the columns read, with the same types.
    destination : str or path-like
        The Parquet file to write (replaced if it exists). It is written under a temporary name
        in the same directory and renamed when complete: a failure leaves no partial file.
    batch_rows : int, default=16384
        Rows per call of ``transform`` and per row group of the output. The embeddings of one
        batch (``batch_rows`` x ``n_features_out`` values of the estimator's output dtype) are held in
        memory twice.
    id_column : str or None, default=None
        A column of the source copied to the output, first, next to each row's embedding (for
        joining the embeddings back); it need not be a feature.

    Returns
    -------
    Path
        ``destination``.

    Raises
    ------
    ValueError
        Naming the file and the column, for a file that lacks a column, stores one with another
        type than the first file, holds no rows, or is not Parquet; also when the source's
        columns do not match the estimator's features.
    FileNotFoundError
        Naming the file, when a file disappears while the dataset is read.

    Notes
    -----
    Each batch becomes a row group of ``n_features_out`` columns (plus ``id_column``); their
    metadata, a few dozen bytes per column and row group, is kept until the file is closed.
    For many rows with ``output="flatten"`` a larger ``batch_rows``, or ``output="cls"`` or
    ``"mean"``, keeps it small.

    The embedding columns are written with the PLAIN encoding, uncompressed and without
    statistics, a layout every Parquet reader reads, and declared non-null (``required``: an
    array from ``transform`` holds no nulls, NaN is a value), so no definition levels are
    computed or stored. Their values are nearly all distinct: pyarrow's default dictionary
    encoding would hash them into a dictionary nearly as large as the column (more bytes, not
    fewer), and snappy finds little to shrink in float values besides the zero low bits of
    float32 values widened to float64; both take much of the write time. With a
    :class:`~sklearn_tjepa.TJEPATransformer`, ``output_dtype="float32"`` halves the file instead
    (the encoder computes in float32, so no precision is lost). Statistics of embeddings serve no
    query and would swell the footer. ``id_column`` keeps pyarrow's defaults (dictionary
    encoding, snappy, statistics).

    Examples
    --------
    >>> import numpy as np, pandas as pd, pyarrow.parquet as pq, tempfile, pathlib
    >>> from sklearn_tjepa import TJEPATransformer, transform_dataset
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> frame = pd.DataFrame(np.random.default_rng(0).normal(size=(64, 4)), columns=list("abcd"))
    >>> frame.assign(row_id=range(64)).to_parquet(folder / "rows.parquet")
    >>> tjepa = TJEPATransformer(d_model=8, n_layers=1, n_heads=2, ffn_dim=16, max_epochs=1,
    ...                          output="cls", device="cpu", random_state=0).fit(frame)
    >>> out = transform_dataset(tjepa, folder / "rows.parquet", folder / "emb.parquet", id_column="row_id")
    >>> pq.read_table(out).shape
    (64, 9)
    """
    check_is_fitted(estimator)
    check_int("batch_rows", batch_rows)
    if id_column is not None and not isinstance(id_column, str):
        raise TypeError(f"id_column must be None or a column name (str), got {id_column=!r}")
    named = getattr(estimator, "feature_names_in_", None) is not None
    if named:
        features = [str(name) for name in estimator.feature_names_in_]
        extra = [id_column] if id_column is not None and id_column not in features else []
        reader = ParquetSource(source, columns=features + extra)
    else:
        reader = ParquetSource(source)  # every column of the first file
        if id_column is not None and id_column not in reader.columns:
            raise ValueError(
                f"id_column={id_column!r} is not a column of the Parquet file {reader.files[0]!r}; "
                f"its columns are {reader.columns}."
            )
        features = [name for name in reader.columns if name != id_column]
        n_expected = getattr(estimator, "n_features_in_", len(features))
        if len(features) != n_expected:
            raise ValueError(
                f"The estimator was fitted on {n_expected} features without column names, and the source "
                f"has {len(features)} columns besides id_column={id_column!r}: {features}. Write files with "
                "exactly its features, or fit it on a DataFrame to read columns by name."
            )
    destination = Path(destination)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
    os.close(handle)
    writer = None
    try:
        for batch in reader.batches(batch_rows=batch_rows):
            frame = reader.to_frame(batch)
            X = frame[features]
            if not named:
                X = X.set_axis(range(len(features)), axis=1)  # integer labels: no feature names
            embeddings = np.asarray(estimator.transform(X))
            if writer is None:
                names = _output_names(estimator, embeddings.shape[1])
                if id_column is not None and id_column in names:
                    raise ValueError(
                        f"id_column={id_column!r} is also the name of an output column of the estimator; "
                        "rename the source's column or pass another id_column"
                    )
                dtype = pa.from_numpy_dtype(embeddings.dtype)
                fields = [pa.field(name, dtype, nullable=False) for name in names]
                if id_column is not None:
                    fields.insert(0, pa.field(id_column, reader.types[id_column]))
                writer = _writer(temporary, pa.schema(fields), id_column)
            arrays = [pa.array(column) for column in _columns(embeddings)]
            if id_column is not None:
                arrays.insert(0, batch.column(id_column).cast(reader.types[id_column]))
            writer.write_table(pa.Table.from_arrays(arrays, schema=writer.schema))
        writer.close()
        os.replace(temporary, destination)
    except BaseException:
        if writer is not None and writer.is_open:
            writer.close()
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination
