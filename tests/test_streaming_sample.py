"""Tests for sklearn_tjepa.streaming.sample.sample_rows: size, uniformity, seeding, reads."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sklearn_tjepa.streaming.sample import sample_rows
from sklearn_tjepa.streaming.source import ParquetSource


@pytest.fixture
def source(tmp_path):
    """100 rows with ids 0..99 in two files, row groups of 10 rows."""
    frame = pd.DataFrame({"id": np.arange(100), "x": np.arange(100) * 0.5})
    paths = []
    for name, part in (("a.parquet", frame.iloc[:60]), ("b.parquet", frame.iloc[60:])):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / name, row_group_size=10)
        paths.append(str(tmp_path / name))
    return ParquetSource(paths)


def test_sample_is_distinct_rows_in_dataset_order_and_seeded(source):
    sample = sample_rows(source, 30, np.random.default_rng(0))
    ids = sample["id"].to_numpy()
    assert len(ids) == 30 and len(set(ids)) == 30 and np.all(np.diff(ids) > 0)
    np.testing.assert_array_equal(sample["x"].to_numpy(), ids * 0.5)  # whole rows, not mixed
    np.testing.assert_array_equal(sample_rows(source, 30, np.random.default_rng(0))["id"], ids)
    assert not np.array_equal(sample_rows(source, 30, np.random.default_rng(1))["id"], ids)


def test_every_row_is_equally_likely(source):
    counts = np.zeros(100)
    rng = np.random.default_rng(0)
    for _ in range(300):
        counts[sample_rows(source, 20, rng)["id"].to_numpy()] += 1
    # each row is drawn with probability 0.2: 60 times in expectation, standard deviation 6.9
    assert counts.min() > 30 and counts.max() < 90


def test_all_rows_when_the_sample_is_larger(source):
    assert sample_rows(source, 500, np.random.default_rng(0))["id"].tolist() == list(range(100))


def test_only_row_groups_holding_a_drawn_row_are_read(source, monkeypatch):
    read = []
    original = ParquetSource.read

    def recording_read(self, row_group, **kwargs):
        read.append(row_group)
        return original(self, row_group, **kwargs)

    monkeypatch.setattr(ParquetSource, "read", recording_read)
    ids = sample_rows(source, 3, np.random.default_rng(0))["id"].to_numpy()
    assert len(read) == len(set(ids // 10))
