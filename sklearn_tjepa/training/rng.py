"""Named random streams spawned from one seed, and a scope that seeds torch and restores it.

Every random draw of a T-JEPA run comes from one of :data:`STREAMS`, each an independent child
of ``numpy.random.SeedSequence(seed)`` keyed by the stream's name (and by the rank for the
per-rank streams), so adding a stream or a rank never shifts the others.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

__all__ = ["STREAMS", "RandomStreams", "seeded_torch"]

#: The named streams, in a fixed order: a stream's position is its spawn key, so new streams go
#: at the end. ``init``: weights of the student (and so of the target encoder); ``dropout``:
#: torch's global generator during training; ``data_order``: the per-epoch permutation of rows
#: (shared by all ranks, each taking its shard); ``mask_sizes``: context and target sizes per
#: step (shared by all ranks, so their steps take equal time); ``mask_positions``: the per-row
#: feature permutations (one stream per rank); ``validation_split``: the rows held out for early
#: stopping; ``validation_mask_sizes``, ``validation_mask_positions``: the fixed masks of the
#: validation loss; ``monitor_rows``: the rows whose embeddings give the collapse statistics;
#: ``missing_inputs``: the values hidden as missing from the student (one stream per rank);
#: ``validation_missing_inputs``: the same for the validation loss;
#: ``preprocessing_sample``: the rows of a Parquet dataset that the preprocessing is fitted on;
#: ``stream_order``: the order of its row groups and of the rows within each shuffle window
#: (keyed further by epoch, rank and window, so that any window can be read again alone).
STREAMS = (
    "init",
    "dropout",
    "data_order",
    "mask_sizes",
    "mask_positions",
    "validation_split",
    "validation_mask_sizes",
    "validation_mask_positions",
    "monitor_rows",
    "missing_inputs",
    "validation_missing_inputs",
    "preprocessing_sample",
    "stream_order",
)


class RandomStreams:
    """The independent random streams of one run, all derived from one integer seed.

    Parameters
    ----------
    seed : int
        Non-negative integer, e.g. drawn from the estimator's ``random_state``.

    Examples
    --------
    >>> streams = RandomStreams(0)
    >>> streams.numpy("validation_split").permutation(4).shape
    (4,)
    >>> streams.seed("mask_positions", rank=1) != streams.seed("mask_positions", rank=0)
    True
    """

    def __init__(self, seed: int):
        self._root = int(seed)

    def seed(self, name: str, *, rank: int = 0) -> int:
        """A 63-bit integer seed of stream ``name`` (for rank ``rank``).

        Raises
        ------
        ValueError
            For a name that is not in :data:`STREAMS`.
        """
        if name not in STREAMS:
            raise ValueError(f"name must be one of {STREAMS}, got name={name!r}")
        sequence = np.random.SeedSequence(self._root, spawn_key=(STREAMS.index(name), rank))
        return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))

    def numpy(self, name: str, *, rank: int = 0) -> np.random.Generator:
        """A numpy generator on stream ``name``."""
        return np.random.default_rng(self.seed(name, rank=rank))

    def torch(self, name: str, device: torch.device | str = "cpu", *, rank: int = 0) -> torch.Generator:
        """A torch generator on ``device`` seeded from stream ``name``."""
        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed(name, rank=rank))
        return generator


@contextlib.contextmanager
def seeded_torch(seed: int, device: torch.device | str):
    """Seed torch's global generators for ``device`` inside the scope, and restore them after.

    The CPU generator is seeded, and, when ``device`` is a CUDA device, that device's generator;
    both are restored on exit. The generators of the other CUDA devices are neither seeded nor
    touched (``torch.manual_seed`` would reseed every device's generator for good).

    Parameters
    ----------
    seed : int
        Seed of the global generators inside the scope.
    device : torch.device or str
        The device the work in the scope runs on.
    """
    device = torch.device(device)
    cuda = []
    if device.type == "cuda":
        cuda = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield
