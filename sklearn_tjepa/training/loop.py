"""The T-JEPA pretraining loop: one step, the epoch loop, validation, checkpoints and history."""

from __future__ import annotations

import logging
import time
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
from sklearn_tjepa.training.schedules import Cosine, Linear, WarmupCosine

__all__ = ["TrainResult", "train_tjepa", "iterations_per_epoch"]

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

    def __init__(self, spec, config, device, rank, world_size, data_shapes, recompute):
        self.spec, self.config, self.device = spec, config, device
        self.rank, self.world_size = rank, world_size
        self.fingerprint = run_fingerprint(spec, config, data_shapes=data_shapes, world_size=world_size)
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

    def state(self, ranks: list[dict], finished: bool) -> dict:
        """Everything a resumed run needs, with ``ranks`` the per-rank random states in rank order."""
        return {
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

    def save(self, directory, *, finished: bool) -> None:
        """Checkpoint the run: every rank sends its random states to rank 0, which writes one file.

        ``finished`` marks a run stopped early (by the validation loss or a callback): resuming
        it trains no further.
        """
        ranks = [self._rank_state()]
        if self.world_size > 1:
            ranks = [None] * self.world_size if self.rank == 0 else None
            torch.distributed.gather_object(self._rank_state(), ranks, dst=0)
        if self.rank == 0:
            save_checkpoint(directory, self.state(ranks, finished))

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
        self.raw_student.load_state_dict(state["student"])
        self.target_encoder.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = list(state["history"])
        # a finished (early-stopped) run starts past its last epoch: no further training
        self.start_epoch = self.config.max_epochs if state["finished"] else int(state["epoch"])
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
    with seeded_torch(RandomStreams(config.seed).seed("dropout"), device):
        return _train(spec, config, options, x_num, x_cat, device, valid, on_epoch_end, rank, world_size)


def _train(spec, config, options, x_num, x_cat, device, valid, on_epoch_end, rank, world_size) -> TrainResult:
    run = _Run(spec, config, device, rank, world_size, data_shapes=(x_num.shape, x_cat.shape), recompute=options.recompute)
    if options.resume and options.checkpoint_dir:
        state = load_checkpoint(options.checkpoint_dir)
        if state is not None:
            run.restore(state, options.checkpoint_dir)
            logger.info("resumed from %s at epoch %d", options.checkpoint_dir, run.start_epoch)

    on_device = _data_fits_on_device(device, x_num.nbytes + x_cat.nbytes, options.data_on_device)
    train_num, train_cat = _place(x_num, device, on_device), _place(x_cat, device, on_device)
    valid_tensors = None if valid is None else (_place(valid[0], device, on_device), _place(valid[1], device, on_device))
    n_rows = x_num.shape[0]
    shard = n_rows // world_size
    ipe = iterations_per_epoch(shard, config.batch_size)
    total = ipe * config.max_epochs
    lr_at = WarmupCosine(config.start_lr, config.lr, config.final_lr, round(config.warmup_epochs * ipe), total)
    wd_at = Cosine(config.weight_decay, config.final_weight_decay, total)
    momentum_at = Linear(config.ema_start, config.ema_end, round(config.ema_horizon_scale * total))
    monitor_rows = run.streams.numpy("monitor_rows").permutation(n_rows)[:_MONITOR_ROWS]
    log_level = logging.INFO if options.verbose >= 2 else logging.DEBUG
    logger.log(
        log_level,
        "T-JEPA on %s, rank %d/%d: %d rows, %d features, %d steps/epoch, data on device: %s",
        device, rank, world_size, n_rows, spec.n_features, ipe, on_device,
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
        started = time.perf_counter()
        order = torch.randperm(n_rows, generator=run.order_generator)[rank * shard : (rank + 1) * shard]
        running = torch.zeros((), device=device)
        seen = 0
        step = epoch * ipe
        with peak_memory(device) as memory:
            for index in _batches(order, config.batch_size):
                lr, wd, momentum = lr_at(step), wd_at(step), momentum_at(step)
                for group in run.optimizer.param_groups:
                    group["lr"] = lr
                    group["weight_decay"] = wd if group["decay"] else 0.0
                device_index = index.to(train_num.device)
                num = train_num[device_index].to(device, non_blocking=True)
                cat = train_cat[device_index].to(device, non_blocking=True)
                loss = _batch_loss(run.student, run.target_encoder, run.sampler, config, num, cat, run.mask_generators, device)
                run.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip:
                    torch.nn.utils.clip_grad_norm_(run.raw_student.parameters(), config.grad_clip)
                run.optimizer.step()
                ema_update(run.target_encoder, run.raw_student.encoder, momentum)
                running += loss.detach() * index.numel()
                seen += index.numel()
                step += 1
            if device.type == "cuda":  # the epoch's kernels are queued asynchronously: wait for them
                torch.cuda.synchronize(device)
        seconds = time.perf_counter() - started
        if world_size > 1:  # the epoch's loss over every rank's rows (equal shards), the same on all ranks
            torch.distributed.all_reduce(running)
        record = {
            "epoch": epoch + 1,
            "loss": float(running) / max(seen * world_size, 1),
            "lr": lr,
            "weight_decay": wd,
            "momentum": momentum,
            "seconds": seconds,
            "samples_per_second": seen * world_size / seconds,
            # The epoch's own peak; where it cannot be isolated, the process's peak so far.
            "peak_memory_mb" if memory["scope"] == BLOCK else "process_peak_memory_mb": memory["peak_mb"],
            "precision": config.precision,
        }
        monitor = embed(
            run.target_encoder, x_num[monitor_rows], x_cat[monitor_rows],
            output=options.output, batch_size=options.transform_batch_size, device=device, precision=config.precision,
        )
        record.update(collapse_statistics(torch.from_numpy(monitor)))
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
