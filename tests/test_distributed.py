"""Tests for sklearn_tjepa.distributed: spawned gloo workers, the in-place torchrun path, failures.

Each 2-process launch spawns fresh interpreters (4-6 s on an idle 2-core machine, more when it is
busy), so the launches here are few and the models tiny. Nothing defined in this module is sent
to the workers: they only import ``sklearn_tjepa``.
"""

import dataclasses
import socket
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist

from conftest import TINY_PARAMS
from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.distributed import RankInfo, launcher_environment, train_distributed
from sklearn_tjepa.training.config import RunOptions, TrainConfig, from_params
from sklearn_tjepa.training.loop import InMemoryRows

TINY = dict(TINY_PARAMS, batch_size=16, output="cls", random_state=0)
LAUNCHER_NOISE = ("torch.distributed", "elastic", "rendezvous", "terminating process")


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(96, 5))


@pytest.fixture
def no_launcher_env(monkeypatch):
    """Make sure the test process does not look like a torchrun / SLURM rank itself."""
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: extra OpenMP threads only spin on a busy machine
    yield
    torch.set_num_threads(threads)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_fit_is_deterministic_and_quiet(X, no_launcher_env, capfd):
    runs = [TJEPATransformer(backend="torchrun", n_procs=2, **TINY).fit(X) for _ in range(2)]
    first, second = runs
    assert first.n_iter_ == 2
    assert [record["epoch"] for record in first.history_] == [1, 2]
    assert all(np.isfinite(record["loss"]) for record in first.history_)
    embeddings = first.transform(X)
    assert embeddings.shape == (96, 8) and embeddings.dtype == np.float64
    np.testing.assert_array_equal(embeddings, second.transform(X))
    assert [r["loss"] for r in first.history_] == [r["loss"] for r in second.history_]
    err = capfd.readouterr().err.lower()
    assert not any(noise in err for noise in LAUNCHER_NOISE), err


def test_in_place_under_torchrun_environment(X, monkeypatch, one_thread):
    for name, value in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MASTER_PORT", str(_free_port()))
    assert launcher_environment() == RankInfo(rank=0, world_size=1, local_rank=0)
    try:
        # n_procs is ignored: the outside launcher decided the world (a world of 1 here).
        fitted = TJEPATransformer(backend="torchrun", n_procs=2, **TINY).fit(X)
        assert dist.is_initialized() and dist.get_world_size() == 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()  # a world of one: no peer to race
    local = TJEPATransformer(backend="local", **TINY).fit(X)
    assert fitted.n_iter_ == 2
    np.testing.assert_array_equal(fitted.transform(X), local.transform(X))


def test_launcher_environment_reads_slurm_only_for_multi_task_steps():
    slurm = dict(SLURM_PROCID="3", SLURM_NTASKS="8", SLURM_LOCALID="1", MASTER_ADDR="node1")
    assert launcher_environment(slurm) == RankInfo(rank=3, world_size=8, local_rank=1)
    assert launcher_environment({**slurm, "SLURM_NTASKS": "1"}) is None  # a plain batch script
    assert launcher_environment({k: v for k, v in slurm.items() if k != "MASTER_ADDR"}) is None
    torchrun = dict(RANK="2", WORLD_SIZE="4", LOCAL_RANK="0", **slurm)
    assert launcher_environment(torchrun) == RankInfo(rank=2, world_size=4, local_rank=0)
    assert launcher_environment({}) is None


def test_several_nodes_need_an_endpoint(X, no_launcher_env):
    estimator = TJEPATransformer(backend="torchrun", n_procs=1, n_nodes=2, **TINY)
    with pytest.raises(ValueError, match="rdzv_endpoint"):
        estimator.fit(X)


@pytest.mark.reliability
def test_shards_of_fewer_than_two_rows_are_refused_before_launching(X, monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"3 training rows.*2 ranks.*1 row.*at least 2"):
        TJEPATransformer(backend="torchrun", n_procs=2, **TINY).fit(X[:3])


def test_worker_failure_raises_promptly(X, no_launcher_env, capfd):
    fitted = TJEPATransformer(**{**TINY, "max_epochs": 0}).fit(X[:8])  # only to get spec and config
    table = fitted.preprocessor_.transform(X)
    broken = dataclasses.replace(fitted.model_spec_, n_heads=3)  # 3 does not divide d_model=8
    params = {**fitted.get_params(), "max_epochs": 1}
    config = from_params(TrainConfig, params, seed=0, patience=None)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"worker rank \d failed .*invalid for input of size"):
        train_distributed(
            broken, config, from_params(RunOptions, params), InMemoryRows(table.x_num, table.x_cat),
            valid=None, device=torch.device("cpu"), n_procs=2, n_nodes=1, rdzv_endpoint=None,
        )
    assert time.perf_counter() - started < 60
    err = capfd.readouterr().err.lower()
    assert not any(noise in err for noise in LAUNCHER_NOISE), err
