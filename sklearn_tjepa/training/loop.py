"""The T-JEPA pretraining loop: one step, the epoch loop, validation, checkpoints and history."""

from __future__ import annotations

import dataclasses
import logging
import time
import zlib
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from sklearn_tjepa.inference import embed
from sklearn_tjepa.model.encoder import TabularEncoder
from sklearn_tjepa.model.jepa import ModelSpec, build_student, ema_update, encoder_state, make_target_encoder
from sklearn_tjepa.model.masks import MaskSampler
from sklearn_tjepa.model.objective import jepa_loss
from sklearn_tjepa.precision import autocast_for
from sklearn_tjepa.training.checkpoints import (
    CHECKPOINT_NAME,
    fingerprint_differences,
    load_checkpoint,
    run_fingerprint,
    save_checkpoint,
)
from sklearn_tjepa.training.config import RunOptions, TrainConfig
from sklearn_tjepa.training.monitoring import BLOCK, collapse_statistics, peak_memory
from sklearn_tjepa.training.optim import make_optimizer
from sklearn_tjepa.training.rng import RandomStreams, seeded_torch
from sklearn_tjepa.training.schedules import RunSchedules

__all__ = [
    "TrainResult",
    "PassResult",
    "InMemoryRows",
    "train_tjepa",
    "train_on",
    "train_pass",
    "pass_record",
    "table_batches",
    "iterations_per_epoch",
]

logger = logging.getLogger("sklearn_tjepa")

_MONITOR_ROWS = 1024


@dataclass
class TrainResult:
    """What a pretraining run hands back (plain CPU objects, picklable across processes).

    Attributes
    ----------
    target_state : dict of str to Tensor
        The target encoder's state dict on CPU (the best epoch's with early stopping).
    history : list of dict
        One record per epoch.
    n_iter : int
        Epochs run.
    best_epoch : int or None
        Epoch of the lowest validation loss when a validation set was given.
    """

    target_state: dict
    history: list = field(default_factory=list)
    n_iter: int = 0
    best_epoch: int | None = None


def iterations_per_epoch(n_rows: int, batch_size: int) -> int:
    """Optimiser steps per epoch: full batches plus a last one, unless it has a single row."""
    full, rest = divmod(n_rows, batch_size)
    return full + (1 if rest >= 2 else 0)


def _batches(order: torch.Tensor, batch_size: int):
    for start in range(0, order.numel(), batch_size):
        index = order[start : start + batch_size]
        if index.numel() >= 2:
            yield index


def _place(x: np.ndarray, device: torch.device, on_device: bool) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(x))
    if device.type == "cpu" or on_device:
        return tensor.to(device)
    return tensor.pin_memory()


def _data_fits_on_device(device: torch.device, n_bytes: int, mode: str) -> bool:
    if device.type == "cpu" or mode == "always":
        return True
    if mode == "never":
        return False
    free, _ = torch.cuda.mem_get_info(device)
    return n_bytes < 0.25 * free


def _batch_loss(student, target_encoder, sampler, config, x_num, x_cat, generators, device):
    """``generators``: mask sizes (CPU), mask positions and hidden inputs (training device)."""
    context, targets = sampler.sample(
        max(x_num.shape[0], x_cat.shape[0]), size_generator=generators[0], index_generator=generators[1]
    )
    with autocast_for(device, config.precision):
        return jepa_loss(
            student, target_encoder, x_num, x_cat, context, targets,
            target_norm=config.target_norm,
            missing_share=config.missing_share,
            missing_generator=generators[2],
            variance_weight=config.variance_weight,
            covariance_weight=config.covariance_weight,
        )


class _Run:
    """State of one pretraining run on one process (rank)."""

    def __init__(self, spec, config, device, rank, world_size, data_shapes, *, recompute, layout=None):
        self.spec, self.config, self.device = spec, config, device
        self.rank, self.world_size = rank, world_size
        self.fingerprint = run_fingerprint(spec, config, data_shapes=data_shapes, world_size=world_size, layout=layout)
        self.streams = RandomStreams(config.seed)
        self.sampler = MaskSampler.from_config(spec.n_features, config)
        with seeded_torch(self.streams.seed("init"), device):
            self.raw_student = build_student(spec, recompute=recompute).to(device)
        self.target_encoder = make_target_encoder(self.raw_student.encoder)
        self.student = self.raw_student
        if world_size > 1:
            device_ids = [device.index] if device.type == "cuda" else None
            self.student = torch.nn.parallel.DistributedDataParallel(self.raw_student, device_ids=device_ids)
        self.optimizer = make_optimizer(self.raw_student)
        self.order_generator = self.streams.torch("data_order")
        self.mask_generators = (
            self.streams.torch("mask_sizes"),
            self.streams.torch("mask_positions", device, rank=rank),
            self.streams.torch("missing_inputs", device, rank=rank),
        )
        self.history: list[dict] = []
        self.start_epoch = 0
        self.start_window = 0  # windows of start_epoch already trained (a checkpoint within an epoch)
        self.partial: PassResult | None = None  # what those windows did
        self.best_loss = float("inf")
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.bad_epochs = 0

    def _rank_state(self) -> dict:
        """The random states that differ between ranks: mask positions, missing inputs, CPU and CUDA generators."""
        state = {
            "device_type": self.device.type,
            "index_generator": self.mask_generators[1].get_state(),
            "missing_generator": self.mask_generators[2].get_state(),
            "rng": torch.get_rng_state(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def state(self, ranks: list[dict], finished: bool, partial: tuple[int, "PassResult"] | None = None) -> dict:
        """Everything a resumed run needs, with ``ranks`` the per-rank random states in rank order.

        ``partial`` is ``(windows, done)`` for a state taken within an epoch: the windows of the
        epoch trained so far and what they did; the state then holds them as ``position`` and
        ``partial``.
        """
        within = {} if partial is None else {"position": partial[0], "partial": partial[1].as_state()}
        return within | {
            "fingerprint": self.fingerprint,
            "seed": self.config.seed,
            "epoch": len(self.history),
            "finished": finished,
            "student": self.raw_student.state_dict(),
            "target": self.target_encoder.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "order_generator": self.order_generator.get_state(),
            "size_generator": self.mask_generators[0].get_state(),
            "ranks": ranks,
            "best_loss": self.best_loss,
            "best_epoch": -1 if self.best_epoch is None else self.best_epoch,
            "best_state": self.best_state if self.best_state is not None else {},
            "bad_epochs": self.bad_epochs,
        }

    def save(self, directory, *, finished: bool, partial: tuple[int, "PassResult"] | None = None) -> None:
        """Checkpoint the run: every rank sends its random states to rank 0, which writes one file.

        ``finished`` marks a run stopped early (by the validation loss or a callback): resuming
        it trains no further. ``partial`` marks a checkpoint within an epoch (see :meth:`state`).
        """
        ranks = [self._rank_state()]
        if self.world_size > 1:
            ranks = [None] * self.world_size if self.rank == 0 else None
            torch.distributed.gather_object(self._rank_state(), ranks, dst=0)
        if self.rank == 0:
            save_checkpoint(directory, self.state(ranks, finished, partial))

    def restore(self, state: dict, directory) -> None:
        """Continue from ``state`` (see :meth:`state`), refusing one of another run with its reason."""
        path = repr(str(Path(directory) / CHECKPOINT_NAME))
        missing = sorted(set(self.state([], False)) - set(state))
        if missing:
            raise ValueError(
                f"The checkpoint file {path} is not a T-JEPA training checkpoint (it lacks "
                f"{', '.join(missing)}): use another checkpoint_dir or resume=False."
            )
        if state["fingerprint"] != self.fingerprint:
            differences = fingerprint_differences(state["fingerprint"], self.fingerprint)
            raise ValueError(
                f"The checkpoint file {path} was written by another run; it differs in "
                f"{'; '.join(differences)}. Fit with the checkpointed run's settings and data, use another "
                "checkpoint_dir, or resume=False."
            )
        mine = state["ranks"][self.rank]
        if mine["device_type"] != self.device.type:
            raise ValueError(
                f"The checkpoint file {path} was written by a run on {mine['device_type']!r}, "
                f"this fit trains on {self.device.type!r}, whose random generators differ: fit on "
                f"{mine['device_type']!r}, use another checkpoint_dir, or resume=False."
            )
        self.load(state)

    def load(self, state: dict) -> None:
        """Take weights, optimiser, history and random states from ``state`` (see :meth:`state`)."""
        mine = state["ranks"][self.rank]
        self.raw_student.load_state_dict(state["student"])
        self.target_encoder.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = list(state["history"])
        # a finished (early-stopped) run starts past its last epoch: no further training
        self.start_epoch = self.config.max_epochs if state["finished"] else int(state["epoch"])
        if "position" in state:
            self.start_window = int(state["position"])
            self.partial = PassResult.from_state(state["partial"], self.device)
        self.order_generator.set_state(state["order_generator"])
        self.mask_generators[0].set_state(state["size_generator"])
        self.mask_generators[1].set_state(mine["index_generator"])
        self.mask_generators[2].set_state(mine["missing_generator"])
        torch.set_rng_state(mine["rng"])
        if "cuda_rng" in mine:
            torch.cuda.set_rng_state(mine["cuda_rng"], self.device)
        self.best_loss = float(state["best_loss"])
        self.best_epoch = None if state["best_epoch"] < 0 else int(state["best_epoch"])
        self.best_state = state["best_state"] or None
        self.bad_epochs = int(state["bad_epochs"])


def _validation_loss(run: _Run, x_num, x_cat) -> float:
    run.raw_student.eval()
    generators = (
        run.streams.torch("validation_mask_sizes"),
        run.streams.torch("validation_mask_positions", run.device),
        run.streams.torch("validation_missing_inputs", run.device),
    )
    total, count = 0.0, 0
    with torch.no_grad():
        for index in _batches(torch.arange(x_num.shape[0]), run.config.batch_size):
            num = x_num[index.to(x_num.device)].to(run.device)
            cat = x_cat[index.to(x_cat.device)].to(run.device)
            loss = _batch_loss(run.raw_student, run.target_encoder, run.sampler, run.config, num, cat, generators, run.device)
            total += float(loss) * index.numel()
            count += index.numel()
    run.raw_student.train()
    return total / max(count, 1)


def table_batches(x_num: torch.Tensor, x_cat: torch.Tensor, order: torch.Tensor, batch_size: int, device: torch.device):
    """The rows ``order`` of an in-memory table, ``batch_size`` at a time, on ``device``.

    A last batch of a single row is dropped (see :func:`iterations_per_epoch`).

    Shape
    -----
    - x_num: ``(n, n_numerical)``, x_cat: ``(n, n_categorical)``, order: ``(m,)``
    - each batch: ``((b, n_numerical), (b, n_categorical))`` with ``2 <= b <= batch_size``
    """
    for index in _batches(order, batch_size):
        device_index = index.to(x_num.device)
        yield x_num[device_index].to(device, non_blocking=True), x_cat[device_index].to(device, non_blocking=True)


@dataclass(frozen=True)
class PassResult:
    """What one pass of optimiser steps did (see :func:`train_pass`).

    Attributes
    ----------
    loss_sum : Tensor
        Sum over rows of the batch losses times the batch sizes, over all ranks (0-d).
    rows : int
        Rows trained on by this rank.
    steps : int
        Optimiser steps taken.
    lr, weight_decay, momentum : float
        Values of the schedules at the last step.
    seconds : float
        Wall time of the pass.
    """

    loss_sum: torch.Tensor
    rows: int
    steps: int
    lr: float
    weight_decay: float
    momentum: float
    seconds: float

    def then(self, later: "PassResult") -> "PassResult":
        """This pass followed by ``later``, as one pass."""
        return PassResult(
            self.loss_sum + later.loss_sum, self.rows + later.rows, self.steps + later.steps,
            later.lr, later.weight_decay, later.momentum, self.seconds + later.seconds,
        )

    def as_state(self) -> dict:
        """Plain values for a checkpoint (see :meth:`from_state`)."""
        return {**dataclasses.asdict(self), "loss_sum": self.loss_sum.detach().cpu()}

    @classmethod
    def from_state(cls, state: dict, device: torch.device) -> "PassResult":
        """The pass saved by :meth:`as_state`, its loss sum on ``device``."""
        return cls(**{**state, "loss_sum": state["loss_sum"].to(device)})


def train_pass(run: _Run, schedules: RunSchedules, batches, step: int) -> PassResult:
    """One optimiser step per batch of ``batches``, the schedules' values taken from ``step`` on.

    Before each step the learning rate and weight decay of the step are set on every parameter
    group (weight decay on the decayed groups only); after it the target encoder takes an EMA
    step with the step's momentum. Under several ranks the summed loss is all-reduced.

    Parameters
    ----------
    run : _Run
        The run's modules, optimiser and random generators.
    schedules : RunSchedules
        Learning rate, weight decay and momentum per step.
    batches : iterable of (Tensor, Tensor)
        Encoded rows on the training device, ``(x_num, x_cat)`` per batch of at least 2 rows.
    step : int
        Number of optimiser steps the run took before this pass.
    """
    started = time.perf_counter()
    config = run.config
    running = torch.zeros((), device=run.device)
    seen = steps = 0
    lr, wd, momentum = schedules(step)
    for num, cat in batches:
        lr, wd, momentum = schedules(step + steps)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
            group["weight_decay"] = wd if group["decay"] else 0.0
        loss = _batch_loss(run.student, run.target_encoder, run.sampler, config, num, cat, run.mask_generators, run.device)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(run.raw_student.parameters(), config.grad_clip)
        run.optimizer.step()
        ema_update(run.target_encoder, run.raw_student.encoder, momentum)
        running += loss.detach() * num.shape[0]
        seen += num.shape[0]
        steps += 1
    if run.device.type == "cuda":  # the pass's kernels are queued asynchronously: wait for them
        torch.cuda.synchronize(run.device)
    seconds = time.perf_counter() - started
    if run.world_size > 1:  # the pass's loss over every rank's rows, the same on all ranks
        torch.distributed.all_reduce(running)
    return PassResult(running, seen, steps, lr, wd, momentum, seconds)


def pass_record(
    run: _Run, options: RunOptions, number: int, done: PassResult, memory: dict, monitor: tuple[np.ndarray, np.ndarray]
) -> dict:
    """The history record of pass ``number`` (from 1): loss, schedules, speed, memory, precision, collapse.

    ``memory`` is the reading of :func:`~sklearn_tjepa.training.monitoring.peak_memory` around
    the pass; ``monitor`` holds the encoded rows whose target-encoder embeddings give the
    collapse statistics. The loss is the mean over every rank's rows (equal shares assumed).
    """
    record = {
        "epoch": number,
        "loss": float(done.loss_sum) / max(done.rows * run.world_size, 1),
        "lr": done.lr,
        "weight_decay": done.weight_decay,
        "momentum": done.momentum,
        "seconds": done.seconds,
        "samples_per_second": done.rows * run.world_size / done.seconds,
        # The pass's own peak; where it cannot be isolated, the process's peak so far.
        "peak_memory_mb" if memory["scope"] == BLOCK else "process_peak_memory_mb": memory["peak_mb"],
        "precision": run.config.precision,
    }
    embeddings = embed(
        run.target_encoder, monitor[0], monitor[1],
        output=options.output, batch_size=options.transform_batch_size, device=run.device, precision=run.config.precision,
    )
    record.update(collapse_statistics(torch.from_numpy(embeddings)))
    return record


class InMemoryRows:
    """Encoded training rows held in memory, as the loop's source of batches.

    The loop reads its rows through this interface, which rows streamed from files implement
    too (:class:`~sklearn_tjepa.streaming.rows.ParquetRows`): ``shapes`` and ``layout`` enter
    the checkpoints' fingerprint, ``n_rows`` is the number of rows, :meth:`steps_per_epoch`
    the steps of one rank per epoch, :meth:`monitor` the rows of the collapse statistics and
    :meth:`windows` the batches of an epoch, in windows after which a checkpoint may be taken,
    and :meth:`identity` what must be equal on every rank.
    In memory an epoch is one window: a permutation of all rows drawn from the run's data-order
    stream and shared by the ranks, of which each takes its ``n_rows // world_size`` share.

    Parameters
    ----------
    x_num, x_cat : ndarray
        Encoded rows (see :class:`~sklearn_tjepa.preprocessing.EncodedTable`).
    """

    layout = None

    def __init__(self, x_num: np.ndarray, x_cat: np.ndarray):
        self.x_num, self.x_cat = x_num, x_cat
        self.shapes = (x_num.shape, x_cat.shape)
        self.n_rows = x_num.shape[0]

    def steps_per_epoch(self, batch_size: int, world_size: int) -> int:
        """Optimiser steps of one epoch on each rank."""
        return iterations_per_epoch(self.n_rows // world_size, batch_size)

    def identity(self) -> tuple:
        """What must be equal on every rank: shape, dtype and checksum of each array."""
        return tuple((a.shape, str(a.dtype), zlib.crc32(np.ascontiguousarray(a).data)) for a in (self.x_num, self.x_cat))

    def monitor(self, streams: RandomStreams) -> tuple[np.ndarray, np.ndarray]:
        """Up to 1024 rows, drawn from the ``monitor_rows`` stream."""
        rows = streams.numpy("monitor_rows").permutation(self.n_rows)[:_MONITOR_ROWS]
        return self.x_num[rows], self.x_cat[rows]

    def place(self, device: torch.device, mode: str) -> str:
        """Put the rows where batches are gathered from (``mode``: ``data_on_device``); says where."""
        on_device = _data_fits_on_device(device, self.x_num.nbytes + self.x_cat.nbytes, mode)
        self._rows = (_place(self.x_num, device, on_device), _place(self.x_cat, device, on_device))
        return "device" if on_device else "host"

    def windows(self, run: "_Run", epoch: int, start: int = 0):
        """The epoch's batches as one window; none from ``start=1`` (the window was trained)."""
        if start == 0:
            shard = self.n_rows // run.world_size
            order = torch.randperm(self.n_rows, generator=run.order_generator)[run.rank * shard : (run.rank + 1) * shard]
            yield table_batches(*self._rows, order, run.config.batch_size, run.device)


def train_tjepa(
    spec: ModelSpec,
    config: TrainConfig,
    options: RunOptions,
    x_num: np.ndarray,
    x_cat: np.ndarray,
    *,
    device: torch.device,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch_end: Callable[[dict, TabularEncoder], bool] | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> TrainResult:
    """Pretrain a T-JEPA encoder on encoded rows.

    Everything random (initialisation, dropout, data order, masks) comes from the named streams
    of ``config.seed`` (:class:`~sklearn_tjepa.training.rng.RandomStreams`); the caller's global
    torch RNG state is restored on return. Under ``world_size > 1`` the process group must be
    initialised; the student is wrapped in DistributedDataParallel, the EMA target encoder stays
    outside it and is updated identically on every rank, and each rank trains on its shard of a
    shared per-epoch permutation.

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    config : TrainConfig
        Optimisation and masking settings.
    options : RunOptions
        Monitoring, data placement, logging and checkpoint settings.
    x_num, x_cat : ndarray
        Encoded training rows (see :class:`~sklearn_tjepa.preprocessing.EncodedTable`).
    device : torch.device
        Training device.
    valid : (ndarray, ndarray) or None
        Encoded validation rows: their JEPA loss (fixed masks) is recorded each epoch, picks the
        returned encoder and, unless ``config.patience`` is None, stops training after
        ``config.patience`` epochs without improvement.
    on_epoch_end : callable or None
        Called after every epoch with the epoch's record (which it may extend) and the target
        encoder (eval mode, no gradients); a truthy return stops training.
    rank, world_size : int
        Position in the process group.

    Returns
    -------
    TrainResult

    Shape
    -----
    - x_num: ``(n, n_numerical)``, x_cat: ``(n, n_categorical)``
    """
    return train_on(
        spec, config, options, InMemoryRows(x_num, x_cat),
        device=device, valid=valid, on_epoch_end=on_epoch_end, rank=rank, world_size=world_size,
    )


def train_on(
    spec: ModelSpec,
    config: TrainConfig,
    options: RunOptions,
    data,
    *,
    device: torch.device,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch_end: Callable[[dict, TabularEncoder], bool] | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> TrainResult:
    """Pretrain on the rows of ``data``, an :class:`InMemoryRows` or rows streamed from files.

    As :func:`train_tjepa`, which calls it. With ``options.checkpoint_dir`` and
    ``options.checkpoint_every_rows``, a checkpoint is also written within an epoch, at the end
    of the first window after which that many rows (over all ranks) were trained since the last
    checkpoint; a resumed run continues from that window.
    """
    with seeded_torch(RandomStreams(config.seed).seed("dropout"), device):
        return _train(spec, config, options, data, device, valid, on_epoch_end, rank, world_size)


def _train(spec, config, options, data, device, valid, on_epoch_end, rank, world_size) -> TrainResult:
    run = _Run(
        spec, config, device, rank, world_size, data_shapes=data.shapes, recompute=options.recompute, layout=data.layout
    )
    if options.resume and options.checkpoint_dir:
        state = load_checkpoint(options.checkpoint_dir)
        if state is not None:
            run.restore(state, options.checkpoint_dir)
            logger.info("resumed from %s at epoch %d, window %d", options.checkpoint_dir, run.start_epoch, run.start_window)

    placement = data.place(device, options.data_on_device)
    valid_tensors = None
    if valid is not None:
        on_device = _data_fits_on_device(device, valid[0].nbytes + valid[1].nbytes, options.data_on_device)
        valid_tensors = (_place(valid[0], device, on_device), _place(valid[1], device, on_device))
    ipe = data.steps_per_epoch(config.batch_size, world_size)
    schedules = RunSchedules.for_run(config, ipe)
    monitor = data.monitor(run.streams)
    log_level = logging.INFO if options.verbose >= 2 else logging.DEBUG
    logger.log(
        log_level,
        "T-JEPA on %s, rank %d/%d: %d rows, %d features, %d steps/epoch, batches from %s",
        device, rank, world_size, data.n_rows, spec.n_features, ipe, placement,
    )

    progress = tqdm(
        range(run.start_epoch, config.max_epochs),
        desc="T-JEPA",
        unit="epoch",
        disable=options.verbose < 1 or rank != 0,
        initial=run.start_epoch,
        total=config.max_epochs,
    )
    for epoch in progress:
        start, done = (run.start_window, run.partial) if epoch == run.start_epoch else (0, None)
        unsaved = 0
        with peak_memory(device) as memory:
            for window, batches in enumerate(data.windows(run, epoch, start), start=start):
                part = train_pass(run, schedules, batches, epoch * ipe + (done.steps if done else 0))
                done = part if done is None else done.then(part)
                unsaved += part.rows * world_size
                if options.checkpoint_dir and options.checkpoint_every_rows and unsaved >= options.checkpoint_every_rows:
                    run.save(options.checkpoint_dir, finished=False, partial=(window + 1, done))
                    unsaved = 0
        record = pass_record(run, options, epoch + 1, done, memory, monitor)
        stop = False
        if valid_tensors is not None:
            record["valid_loss"] = _validation_loss(run, *valid_tensors)
            if record["valid_loss"] < run.best_loss:
                run.best_loss, run.best_epoch, run.bad_epochs = record["valid_loss"], epoch + 1, 0
                run.best_state = encoder_state(run.target_encoder, copy=True)
            else:
                run.bad_epochs += 1
                stop = config.patience is not None and run.bad_epochs >= config.patience
        if on_epoch_end is not None:
            stop = bool(on_epoch_end(record, run.target_encoder)) or stop
        run.history.append(record)
        progress.set_postfix(loss=f"{record['loss']:.4g}", **({"valid": f"{record['valid_loss']:.4g}"} if "valid_loss" in record else {}))
        logger.log(log_level, "epoch %d: %s", epoch + 1, record)
        last_epoch = epoch + 1 == config.max_epochs
        if options.checkpoint_dir and ((epoch + 1) % options.checkpoint_every == 0 or last_epoch or stop):
            run.save(options.checkpoint_dir, finished=stop)
        if stop:
            break
    progress.close()
    target_state = run.best_state if run.best_state is not None else encoder_state(run.target_encoder, copy=True)
    return TrainResult(target_state=target_state, history=run.history, n_iter=len(run.history), best_epoch=run.best_epoch)
