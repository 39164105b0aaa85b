"""The training rows of a Parquet dataset, read and encoded one shuffled window at a time.

:class:`ParquetRows` is what the training loop reads a Parquet dataset through (the interface
of :class:`~sklearn_tjepa.training.loop.InMemoryRows`). Each epoch puts the row groups in a
seeded random order and reads their rows as one stream; under ``world_size`` ranks, rank ``r``
takes rows ``[r * s, (r + 1) * s)`` of it, ``s = n_rows // world_size``, so that the ranks read
disjoint rows (a row group on the border of two shares is read by both, each keeping its part)
and every row but the last ``n_rows % world_size`` is trained on once per epoch. A share is cut
into windows of ``window_rows`` rows, a whole number of batches; a window is read, encoded with
the fitted preprocessing and shuffled, and its batches are trained on before the next is read.
Which rows a window holds and their order depend only on the seed, the epoch, the rank and the
window's number, so a run resumed from a checkpoint taken after any window reads on exactly
where it stopped.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pyarrow as pa
import torch

from sklearn_tjepa.preprocessing import EncodedTable, TablePreprocessor
from sklearn_tjepa.streaming.source import ParquetSource
from sklearn_tjepa.training.loop import _MONITOR_ROWS, iterations_per_epoch, table_batches
from sklearn_tjepa.training.rng import RandomStreams

__all__ = ["ParquetRows"]

_GROUP_ORDER, _WINDOW_ORDER = 0, 1  # first element of the spawn keys of the two kinds of draws


class ParquetRows:
    """The rows of a Parquet dataset for the training loop, streamed in shuffled windows.

    Parameters
    ----------
    source : ParquetSource
        The checked files, read with the columns the preprocessing was fitted on.
    preprocessor : TablePreprocessor
        Fitted; encodes every window.
    sample : EncodedTable
        Encoded rows of the dataset (the preprocessing sample), of which up to 1024, drawn
        from the ``monitor_rows`` stream, give the collapse statistics.
    seed : int
        The run's seed; windows are drawn from its ``stream_order`` stream.
    window_rows : int
        Rows shuffled together; rounded down to whole batches, at least one batch.
    batch_size : int
        Rows per optimiser step.

    Attributes
    ----------
    n_rows : int
        Rows in the dataset.
    window_rows : int
        Rows per window, a multiple of ``batch_size``.
    shapes : tuple of tuple of int
        Shapes of the encoded dataset (numerical, categorical).
    layout : dict
        Files, row groups and ``window_rows``: what decides which rows each step sees.
    """

    def __init__(
        self,
        source: ParquetSource,
        preprocessor: TablePreprocessor,
        sample: EncodedTable,
        *,
        seed: int,
        window_rows: int,
        batch_size: int,
    ):
        self.source, self.preprocessor = source, preprocessor
        self.n_rows = source.n_rows
        self.window_rows = max(1, window_rows // batch_size) * batch_size
        self.shapes = ((self.n_rows, sample.x_num.shape[1]), (self.n_rows, sample.x_cat.shape[1]))
        self.layout = {
            "files": list(source.files),
            "row_groups": [[group.file, group.index, group.n_rows] for group in source.row_groups],
            "window_rows": self.window_rows,
        }
        streams = RandomStreams(seed)
        self._seed = streams.seed("stream_order")
        rows = streams.numpy("monitor_rows").permutation(len(sample))[:_MONITOR_ROWS]
        self._monitor = (sample.x_num[rows], sample.x_cat[rows])

    def steps_per_epoch(self, batch_size: int, world_size: int) -> int:
        """Optimiser steps of one epoch on each rank."""
        return iterations_per_epoch(self.n_rows // world_size, batch_size)

    def monitor(self, streams: RandomStreams) -> tuple[np.ndarray, np.ndarray]:
        """The encoded rows of the collapse statistics (drawn at construction)."""
        return self._monitor

    def place(self, device: torch.device, mode: str) -> str:
        """Nothing to place: each window is read when it is trained on."""
        return "Parquet files"

    def identity(self) -> tuple:
        """What must be equal on every rank: the layout and the encoding (by its monitor rows)."""
        return (
            repr(self.layout),
            tuple(zlib.crc32(np.ascontiguousarray(a).data) for a in self._monitor),
        )

    def n_windows(self, world_size: int) -> int:
        """Windows per epoch on each rank."""
        return math.ceil((self.n_rows // world_size) / self.window_rows)

    def _generator(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=key))

    def window_rows_of(self, epoch: int, rank: int, world_size: int, window: int) -> list[tuple[int, int, int]]:
        """Where window ``window`` of ``rank`` in ``epoch`` lies: ``(row group position, start, stop)``
        per row group it takes rows from, in stream order (``start:stop`` within the group)."""
        order = self._generator(_GROUP_ORDER, epoch).permutation(len(self.source.row_groups))
        sizes = np.array([self.source.row_groups[g].n_rows for g in order], dtype=np.int64)
        ends = np.cumsum(sizes)
        share = self.n_rows // world_size
        first = rank * share + window * self.window_rows
        last = rank * share + min((window + 1) * self.window_rows, share)
        pieces = []
        for k in range(int(np.searchsorted(ends, first, side="right")), len(order)):
            begin = int(ends[k] - sizes[k])
            if begin >= last:
                break
            pieces.append((int(order[k]), max(first - begin, 0), min(last - begin, int(sizes[k]))))
        return pieces

    def read_window(self, epoch: int, rank: int, world_size: int, window: int) -> EncodedTable:
        """The encoded rows of a window, in stream order (before its shuffle).

        Each row group's part is converted to pandas and encoded on its own, so that only the
        compact encoded arrays of the whole window are held at once.
        """
        parts = []
        for position, start, stop in self.window_rows_of(epoch, rank, world_size, window):
            group = self.source.row_groups[position]
            table = pa.Table.from_batches(list(self.source.read(group, batch_rows=group.n_rows)))
            parts.append(self.preprocessor.transform(table.slice(start, stop - start).to_pandas()))
        return EncodedTable(
            np.concatenate([part.x_num for part in parts]), np.concatenate([part.x_cat for part in parts])
        )

    def windows(self, run, epoch: int, start: int = 0):
        """The batches of each window of the epoch, from window ``start`` on, for ``run``'s rank.

        A window is read when its first batch is asked for, so that the time of reading it
        counts in the pass that trains on it.
        """
        for window in range(start, self.n_windows(run.world_size)):
            yield self._batches(run, epoch, window)

    def _batches(self, run, epoch: int, window: int):
        table = self.read_window(epoch, run.rank, run.world_size, window)
        order = self._generator(_WINDOW_ORDER, epoch, run.rank, window).permutation(len(table))
        yield from table_batches(
            torch.from_numpy(table.x_num), torch.from_numpy(table.x_cat), torch.from_numpy(order),
            run.config.batch_size, run.device,
        )
