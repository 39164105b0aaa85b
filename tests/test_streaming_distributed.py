"""Tests for fit on a Parquet dataset under backend="torchrun": each rank reads its own share.

One launch of two gloo workers (several seconds). The workers read the files through a
filesystem that logs every file opened, with the rank that opened it; each file holds one row
group, so the log shows which row groups each rank read in each epoch.
"""

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs
import pyarrow.parquet as pq
import pytest
from conftest import TINY_PARAMS

from sklearn_tjepa import TJEPATransformer

N_FILES, FILE_ROWS = 8, 24


class OpenLog(pyarrow.fs.FileSystemHandler):
    """A local filesystem that appends ``"<RANK> <path>"`` to ``log`` for every file opened for
    reading (``RANK`` is unset, "parent", in the fitting process)."""

    def __init__(self, log):
        self.log = str(log)
        self.local = pyarrow.fs.LocalFileSystem()

    def __eq__(self, other):
        return isinstance(other, OpenLog) and other.log == self.log

    def __ne__(self, other):
        return not self == other

    def get_type_name(self):
        return "open-log"

    def normalize_path(self, path):
        return self.local.normalize_path(path)

    def get_file_info(self, paths):
        return self.local.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self.local.get_file_info(selector)

    def open_input_file(self, path):
        with open(self.log, "a") as log:
            log.write(f"{os.environ.get('RANK', 'parent')} {path}\n")
        return self.local.open_input_file(path)

    def open_input_stream(self, path):
        return self.open_input_file(path)

    def create_dir(self, path, recursive):
        raise NotImplementedError

    def delete_dir(self, path):
        raise NotImplementedError

    def delete_dir_contents(self, path, missing_dir_ok=False):
        raise NotImplementedError

    def delete_root_dir_contents(self):
        raise NotImplementedError

    def delete_file(self, path):
        raise NotImplementedError

    def move(self, src, dest):
        raise NotImplementedError

    def copy_file(self, src, dest):
        raise NotImplementedError

    def open_output_stream(self, path, metadata):
        raise NotImplementedError

    def open_append_stream(self, path, metadata):
        raise NotImplementedError


@pytest.mark.slow
def test_two_ranks_read_disjoint_halves_of_the_row_groups(tmp_path, monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"):
        monkeypatch.delenv(name, raising=False)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(N_FILES * FILE_ROWS, 1))
    frame = pd.DataFrame(np.hstack([z, 2 * z, -z, z**2, rng.normal(size=z.shape)]), columns=list("abcde"))
    files = []
    for i in range(N_FILES):
        files.append(str(tmp_path / f"part{i}.parquet"))
        pq.write_table(pa.Table.from_pandas(frame.iloc[i * FILE_ROWS : (i + 1) * FILE_ROWS], preserve_index=False), files[-1])
    log = tmp_path / "opened.log"
    dataset = ds.dataset(files, format="parquet", filesystem=pyarrow.fs.PyFileSystem(OpenLog(log)))
    params = dict(TINY_PARAMS, batch_size=16, shuffle_buffer_rows=48, output="cls", random_state=0, lr=5e-3)
    two = TJEPATransformer(backend="torchrun", n_procs=2, **params).fit(dataset)

    opened = [line.split() for line in log.read_text().splitlines()]
    by_rank = {rank: [path for who, path in opened if who == rank] for rank in ("0", "1")}
    for epoch in range(2):  # each rank opens its 4 files (two windows of two files) per epoch
        halves = [by_rank[rank][epoch * 4 : (epoch + 1) * 4] for rank in ("0", "1")]
        assert all(len(set(half)) == 4 for half in halves)
        assert set(halves[0]).isdisjoint(halves[1]) and set(halves[0]) | set(halves[1]) == set(files)
    assert [len(paths) for paths in by_rank.values()] == [8, 8]  # and nothing else: no rank read the whole table

    # the same quality as one process taking the same steps (batches of 2 x 16 rows): the JEPA
    # loss of the last epoch within 10% of its value
    one = TJEPATransformer(**{**params, "batch_size": 32, "shuffle_buffer_rows": 96}).fit(files)
    assert two.n_iter_ == one.n_iter_ == 2
    assert two.history_[-1]["loss"] == pytest.approx(one.history_[-1]["loss"], rel=0.10)
    assert np.isfinite(two.transform(frame)).all()
