"""A seeded uniform sample of the rows of a Parquet dataset, read without loading the dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from sklearn_tjepa.streaming.source import ParquetSource

__all__ = ["sample_rows"]


def sample_rows(source: ParquetSource, n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n_rows`` rows of ``source`` drawn uniformly without replacement (all rows when fewer).

    The row count of every row group is known from the footers, so the sample is drawn as row
    numbers first; then only the row groups holding a drawn row are read, one at a time, and
    only the drawn rows are kept. Memory holds the sample and one row group.

    Parameters
    ----------
    source : ParquetSource
        The dataset.
    n_rows : int
        Sample size.
    rng : numpy.random.Generator
        Draws the rows.

    Returns
    -------
    DataFrame
        The sampled rows, in the order of the dataset, with the columns of ``source``.
    """
    sizes = np.array([group.n_rows for group in source.row_groups], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if n_rows >= source.n_rows:
        chosen = np.arange(source.n_rows)
    else:
        chosen = np.sort(rng.choice(source.n_rows, size=n_rows, replace=False))
    owners = np.searchsorted(starts, chosen, side="right") - 1
    frames = []
    for position in np.unique(owners):
        group = source.row_groups[position]
        table = pa.Table.from_batches(list(source.read(group, batch_rows=group.n_rows)))
        frames.append(table.take(chosen[owners == position] - starts[position]).to_pandas())
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
