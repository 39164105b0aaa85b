"""Tests for sklearn_tjepa.streaming.rows.ParquetRows: every row once per epoch, ranks disjoint,
windows of whole batches, seeded orders, and encoded windows."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sklearn_tjepa.preprocessing import TablePreprocessor
from sklearn_tjepa.streaming.rows import ParquetRows
from sklearn_tjepa.streaming.source import ParquetSource

N_ROWS = 203


@pytest.fixture
def source(tmp_path):
    """203 rows (id 0..202) in three files with row groups of 7, 16 and 25 rows."""
    frame = pd.DataFrame({"id": np.arange(N_ROWS, dtype=float), "kind": np.where(np.arange(N_ROWS) % 3, "a", "b")})
    paths = []
    for name, rows, group in (("a.parquet", slice(0, 50), 7), ("b.parquet", slice(50, 130), 16), ("c.parquet", slice(130, None), 25)):
        pq.write_table(pa.Table.from_pandas(frame.iloc[rows], preserve_index=False), tmp_path / name, row_group_size=group)
        paths.append(str(tmp_path / name))
    return ParquetSource(paths)


@pytest.fixture
def rows(source):
    frame = pd.concat([ParquetSource.to_frame(b) for b in source.batches(batch_rows=1000)], ignore_index=True)
    preprocessor = TablePreprocessor(numerical_scaling="none").fit(frame)
    return ParquetRows(source, preprocessor, preprocessor.transform(frame), seed=0, window_rows=40, batch_size=16)


def _ids(rows, epoch, rank, world_size, window):
    starts = np.concatenate([[0], np.cumsum([g.n_rows for g in rows.source.row_groups])])
    return [starts[p] + i for p, start, stop in rows.window_rows_of(epoch, rank, world_size, window) for i in range(start, stop)]


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_each_epoch_every_row_once_over_disjoint_rank_shares(rows, world_size):
    share = N_ROWS // world_size
    assert rows.window_rows == 32  # 40 rounded down to whole batches of 16
    for epoch in range(2):
        seen = []
        for rank in range(world_size):
            windows = [_ids(rows, epoch, rank, world_size, w) for w in range(rows.n_windows(world_size))]
            assert [len(w) for w in windows[:-1]] == [32] * (len(windows) - 1)  # whole batches but the last
            assert sum(len(w) for w in windows) == share
            seen += [i for w in windows for i in w]
        assert len(seen) == len(set(seen)) == share * world_size  # disjoint, n_rows % world_size left out
        assert set(seen) <= set(range(N_ROWS))


def test_orders_are_seeded_per_epoch(rows, source):
    first = _ids(rows, 0, 0, 1, 0)
    assert _ids(rows, 0, 0, 1, 0) == first
    assert _ids(rows, 1, 0, 1, 0) != first
    other = ParquetRows(source, rows.preprocessor, rows.preprocessor.transform(pd.DataFrame({"id": [0.0, 1.0], "kind": ["a", "b"]})),
                        seed=1, window_rows=40, batch_size=16)
    assert _ids(other, 0, 0, 1, 0) != first


def test_read_window_encodes_the_rows_of_the_window(rows):
    table = rows.read_window(1, 1, 2, 2)
    ids = _ids(rows, 1, 1, 2, 2)
    np.testing.assert_array_equal(table.x_num[:, 0], ids)
    np.testing.assert_array_equal(table.x_cat[:, 0], np.where(np.array(ids) % 3, 1, 2))


def test_layout_names_files_groups_and_window(rows, source):
    assert rows.layout["files"] == source.files and rows.layout["window_rows"] == 32
    assert [n for _, _, n in rows.layout["row_groups"]] == [7] * 7 + [1] + [16] * 5 + [25, 25, 23]
    assert rows.shapes == ((N_ROWS, 1), (N_ROWS, 1))
    assert rows.steps_per_epoch(16, 2) == 7  # 101 rows: 6 batches of 16 and one of 5
