"""Tests for sklearn_tjepa.training.rng: named random streams and the torch seeding scope."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sklearn_tjepa.baselines import MLPClassifier
from sklearn_tjepa.training.rng import STREAMS, RandomStreams, seeded_torch


@given(seed=st.integers(0, 2**31 - 1))
def test_streams_are_distinct_and_reproducible(seed):
    streams = RandomStreams(seed)
    seeds = [streams.seed(name) for name in STREAMS] + [streams.seed("mask_positions", rank=1)]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**63 for s in seeds)
    assert seeds == [RandomStreams(seed).seed(name) for name in STREAMS] + [RandomStreams(seed).seed("mask_positions", rank=1)]


def test_stream_generators_follow_their_seed():
    streams = RandomStreams(3)
    np.testing.assert_array_equal(streams.numpy("monitor_rows").permutation(10), streams.numpy("monitor_rows").permutation(10))
    assert torch.equal(torch.rand(4, generator=streams.torch("data_order")), torch.rand(4, generator=streams.torch("data_order")))
    assert not torch.equal(torch.rand(4, generator=streams.torch("data_order")), torch.rand(4, generator=streams.torch("mask_sizes")))


def test_unknown_stream_is_rejected():
    with pytest.raises(ValueError, match="name must be one of"):
        RandomStreams(0).seed("masks")


def test_seeded_torch_seeds_and_restores_the_cpu_generator():
    torch.manual_seed(123)
    expected_after = torch.rand(3)
    torch.manual_seed(123)
    with seeded_torch(7, "cpu"):
        inside = torch.rand(3)
    with seeded_torch(7, torch.device("cpu")):
        assert torch.equal(torch.rand(3), inside)
    assert torch.equal(torch.rand(3), expected_after)


@pytest.fixture
def cuda_seed_calls(monkeypatch):
    """Calls that (re)seed the generators of every CUDA device."""
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    return calls


def test_seeded_torch_leaves_other_cuda_generators_alone(cuda_seed_calls):
    """Defect: ``torch.manual_seed`` inside the scope reseeded the generator of every CUDA device,
    outside the forked (restored) ones."""
    with seeded_torch(7, "cpu"):
        torch.rand(1)
    assert cuda_seed_calls == []


def test_fit_leaves_cuda_generators_alone(cuda_seed_calls, make, X_numeric):
    make(max_epochs=1).fit(X_numeric)
    MLPClassifier(n_blocks=1, d_block=8, max_epochs=1, device="cpu", random_state=0).fit(X_numeric, X_numeric[:, 0] > 0)
    assert cuda_seed_calls == []
