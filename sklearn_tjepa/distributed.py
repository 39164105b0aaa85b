"""Data-parallel pretraining: launch workers from ``fit``, or join a torchrun / SLURM job.

``TJEPATransformer(backend="torchrun").fit`` calls :func:`train_distributed`. When the process
was itself started by torchrun (or by ``srun`` with several tasks) it trains in place as one
rank of that job; otherwise it launches ``n_procs`` workers on this node with
:func:`torch.distributed.launcher.api.elastic_launch` and returns what the first rank trained.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid
import zlib

import numpy as np
import torch
import torch.distributed as dist

from sklearn_tjepa.model.jepa import ModelSpec
from sklearn_tjepa.training.config import RunOptions, TrainConfig
from sklearn_tjepa.training.loop import TrainResult, train_on

__all__ = ["RankInfo", "launcher_environment", "train_distributed"]

logger = logging.getLogger("sklearn_tjepa")

_LAUNCHER_LOGGERS = ("torch.distributed.elastic", "torch.distributed.launcher", "torch.multiprocessing")
_HANDLED_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT")  # what elastic's agent takes over
_launches = itertools.count()  # numbers the launches of this process (multi-node run ids)


@dataclasses.dataclass(frozen=True)
class RankInfo:
    """Position of this process in a job started by an outside launcher.

    Attributes
    ----------
    rank : int
        Global rank.
    world_size : int
        Number of processes in the job.
    local_rank : int
        Rank on this node (the GPU index with CUDA).
    """

    rank: int
    world_size: int
    local_rank: int


def launcher_environment(environ=None) -> RankInfo | None:
    """Detect a job started by torchrun or SLURM from the environment (nanoGPT-style).

    torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``. Under ``srun`` the SLURM
    variables ``SLURM_PROCID``, ``SLURM_NTASKS`` and ``SLURM_LOCALID`` are used, but only for a
    step of several tasks whose rendezvous is given by ``MASTER_ADDR`` (and ``MASTER_PORT``):
    SLURM also sets these variables in a single-task batch script, where a fresh launch is wanted.

    Parameters
    ----------
    environ : mapping, default=None
        The environment to read; ``os.environ`` when None.

    Returns
    -------
    RankInfo or None
        None when the process was not started as one rank of a job.
    """
    env = os.environ if environ is None else environ
    if "RANK" in env and "WORLD_SIZE" in env:
        return RankInfo(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", 0)))
    if "SLURM_PROCID" in env and int(env.get("SLURM_NTASKS", 1)) > 1 and "MASTER_ADDR" in env:
        return RankInfo(int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"]), int(env.get("SLURM_LOCALID", 0)))
    return None


def train_distributed(
    spec: ModelSpec,
    config: TrainConfig,
    options: RunOptions,
    data,
    *,
    valid: tuple[np.ndarray, np.ndarray] | None,
    device: torch.device,
    n_procs: int,
    n_nodes: int,
    rdzv_endpoint: str | None,
) -> TrainResult:
    """Pretrain with DistributedDataParallel, in place or in launched worker processes.

    Under torchrun or SLURM (see :func:`launcher_environment`) this process is one rank: the
    process group is initialised unless it already is (gloo on CPU, NCCL on ``cuda:LOCAL_RANK``),
    and ``n_procs``, ``n_nodes`` and ``rdzv_endpoint`` are ignored. A group initialised here is
    left up, so later fits reuse it. Otherwise ``n_procs`` workers are spawned on this node and
    join a c10d rendezvous at ``rdzv_endpoint`` (a free local port for one node) with the other
    ``n_nodes - 1`` nodes, each of which runs the same call.

    All ranks start from the same seed (rank 0's ``config`` is broadcast) and must be given the
    same data (checked). Rows in memory are sent whole to every worker, each training on its
    share of every epoch's permutation; rows of Parquet files are not: each rank reads only its
    share of every epoch (see :class:`~sklearn_tjepa.streaming.rows.ParquetRows`). The target
    encoder is identical on every rank at the end.

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    config : TrainConfig
        Training settings.
    options : RunOptions
        Run settings; ``options.verbose >= 2`` lets the launcher's own logging through.
    data : InMemoryRows or ParquetRows
        The training rows (see :class:`~sklearn_tjepa.training.loop.InMemoryRows`), the same
        on every node.
    valid : (ndarray, ndarray) or None
        Encoded validation rows.
    device : torch.device
        ``cpu``, or ``cuda`` to give each worker ``cuda:LOCAL_RANK``.
    n_procs : int
        Workers per node.
    n_nodes : int
        Nodes; more than one needs ``rdzv_endpoint``.
    rdzv_endpoint : str or None
        ``host:port`` of the rendezvous, reachable from every node.

    Returns
    -------
    TrainResult
        In place: this rank's result, on every rank. Launched: the result of the lowest rank on
        this node (rank 0 on the first node), so every node gets the same trained encoder; the
        history's ``loss`` is the mean over all ranks.

    Raises
    ------
    ValueError
        Fewer than 2 rows per rank, ``n_nodes > 1`` without ``rdzv_endpoint``, more CUDA
        workers than GPUs, or (in every rank) ranks whose data or model layout differ.
    RuntimeError
        When a worker fails (the message carries the worker's exception, the launcher's
        ``ChildFailedError`` with its traceback is chained) or the rendezvous breaks.
    """
    if not dist.is_available():
        raise RuntimeError("backend='torchrun' needs a PyTorch build with torch.distributed")
    info = launcher_environment()
    world_size = info.world_size if info is not None else n_procs * n_nodes
    shard = data.n_rows // world_size
    if shard < 2:
        raise ValueError(
            f"backend='torchrun' splits the {data.n_rows} training rows over {world_size} ranks, {shard} "
            f"row(s) each, and every rank needs at least 2: give at least {2 * world_size} rows or fewer "
            "ranks (n_procs * n_nodes)"
        )
    if info is not None:
        return _train_in_place(spec, config, options, data, valid, device, info)
    if n_nodes > 1 and not rdzv_endpoint:
        raise ValueError(
            f"n_nodes > 1 needs rdzv_endpoint='host:port' reachable from every node, got {n_nodes=}"
        )
    if device.type == "cuda" and n_procs > torch.cuda.device_count():
        raise ValueError(
            f"n_procs={n_procs} CUDA workers need as many GPUs, found {torch.cuda.device_count()}"
        )
    return _launch(spec, config, options, data, valid, device, n_procs, n_nodes, rdzv_endpoint)


def _rank_device(device_type: str, local_rank: int) -> torch.device:
    if device_type != "cuda":
        return torch.device("cpu")
    device = torch.device("cuda", local_rank)
    torch.cuda.set_device(device)
    return device


def _fingerprint(spec, data, valid) -> tuple:
    arrays = tuple(valid) if valid is not None else ()
    return (spec, data.identity(), tuple((a.shape, str(a.dtype), zlib.crc32(np.ascontiguousarray(a).data)) for a in arrays))


def _run_rank(spec, config, options, data, valid, device, rank, world_size) -> TrainResult:
    """Train as one rank of an initialised group; every rank returns after a common barrier."""
    if world_size > 1:
        gathered = [None] * world_size
        dist.all_gather_object(gathered, (config, _fingerprint(spec, data, valid)))
        if any(fingerprint != gathered[0][1] for _, fingerprint in gathered):
            raise ValueError(
                "backend='torchrun' needs the same data and settings on every rank, and they differ: "
                "give every process the same X and an int random_state"
            )
        config = gathered[0][0]  # rank 0's seed everywhere, also with random_state=None
    logger.log(
        logging.INFO if options.verbose >= 2 else logging.DEBUG,
        "rank %d/%d on %s (%s), %d threads",
        rank, world_size, device, dist.get_backend(), torch.get_num_threads(),
    )
    result = train_on(spec, config, options, data, device=device, valid=valid, rank=rank, world_size=world_size)
    # A barrier, not destroy_process_group(): destroying at exit aborted now and then.
    dist.barrier()
    return result


def _train_in_place(spec, config, options, data, valid, device, info: RankInfo) -> TrainResult:
    device = _rank_device(device.type, info.local_rank)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=info.rank, world_size=info.world_size)
    return _run_rank(spec, config, options, data, valid, device, dist.get_rank(), dist.get_world_size())


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _worker(spec, config, options, data, valid, device_type) -> TrainResult | None:
    """Entry point of a launched worker (module level, so that spawn can import it)."""
    local_rank, local_world_size = int(os.environ["LOCAL_RANK"]), int(os.environ["LOCAL_WORLD_SIZE"])
    rank = int(os.environ["RANK"])
    if "OMP_NUM_THREADS" not in os.environ:  # several nodes on one machine set it to share the cores
        torch.set_num_threads(max(1, _cpu_count() // local_world_size))
    if options.verbose >= 2 and not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"%(asctime)s [rank {rank}] %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    device = _rank_device(device_type, local_rank)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    result = _run_rank(spec, config, options, data, valid, device, rank, dist.get_world_size())
    return result if local_rank == 0 else None  # the state is the same on every rank: send one per node


@contextlib.contextmanager
def _launcher_side_effects(verbose: int):
    """Silence the launcher's loggers and give back the signal handlers its agent installs."""
    import torch.distributed.elastic.rendezvous.c10d_rendezvous_backend  # noqa: F401 (create its logger)
    import torch.distributed.elastic.rendezvous.dynamic_rendezvous  # noqa: F401

    levels = {}
    if verbose < 2:
        for name, item in list(logging.root.manager.loggerDict.items()):
            if name.startswith(_LAUNCHER_LOGGERS) and isinstance(item, logging.Logger):
                levels[name] = item.level
                item.setLevel(logging.CRITICAL + 1)
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for name in _HANDLED_SIGNALS:
            if hasattr(signal, name):
                handlers[name] = signal.getsignal(getattr(signal, name))
    env_key = "TORCHELASTIC_SIGNALS_TO_HANDLE"
    env_value = os.environ.get(env_key)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for name, handler in handlers.items():
            signal.signal(getattr(signal, name), handler)
        if env_value is None:
            os.environ.pop(env_key, None)
        else:
            os.environ[env_key] = env_value


def _failure_message(failure) -> str:
    message = failure.message
    if isinstance(message, dict):  # the error file written by the worker: {"message": ..., "extraInfo": ...}
        message = message.get("message", message)
    return str(message)


def _launch(spec, config, options, data, valid, device, n_procs, n_nodes, rdzv_endpoint) -> TrainResult:
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.rendezvous.api import RendezvousError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if n_nodes > 1:  # every node must compute the same run id: endpoint and launch count
        digest = hashlib.sha1(rdzv_endpoint.encode()).hexdigest()[:12]
        run_id = f"sklearn_tjepa_{digest}_{next(_launches)}"
    else:
        run_id = f"sklearn_tjepa_{uuid.uuid4().hex}"
    log_dir = tempfile.mkdtemp(prefix="sklearn_tjepa_elastic_")
    launch_config = LaunchConfig(
        min_nodes=n_nodes,
        max_nodes=n_nodes,
        nproc_per_node=n_procs,
        rdzv_backend="c10d",
        rdzv_endpoint=rdzv_endpoint or "localhost:0",
        run_id=run_id,
        max_restarts=0,
        start_method="spawn",
        monitor_interval=0.1,
        logs_specs=DefaultLogsSpecs(log_dir=log_dir),
    )
    logger.log(
        logging.INFO if options.verbose >= 2 else logging.DEBUG,
        "launching %d worker(s) x %d node(s) on %s, rendezvous %s, run id %s",
        n_procs, n_nodes, device.type, launch_config.rdzv_endpoint, run_id,
    )
    try:
        with _launcher_side_effects(options.verbose):
            outputs = elastic_launch(launch_config, _worker)(spec, config, options, data, valid, device.type)
    except ChildFailedError as error:
        rank, failure = error.get_first_failure()
        raise RuntimeError(
            f"backend='torchrun': worker rank {rank} failed (exit code {failure.exitcode}): "
            f"{_failure_message(failure)}"
        ) from error
    except RendezvousError as error:  # a node never joined, or the one hosting the store failed
        raise RuntimeError(
            f"backend='torchrun': the rendezvous at {launch_config.rdzv_endpoint} failed: {error} "
            "(another node may have failed or not joined; see its error)"
        ) from error
    except SignalException as error:
        if error.sigval == signal.SIGINT:
            raise KeyboardInterrupt from error
        raise
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    results = [outputs[rank] for rank in sorted(outputs) if outputs[rank] is not None]
    if not results:
        raise RuntimeError("backend='torchrun': no worker returned a result")
    return results[0]
