"""Incremental pretraining: one pass over a chunk of rows per call, the run's state kept between calls.

:func:`train_increment` is what :meth:`~sklearn_tjepa.TJEPATransformer.partial_fit` runs. The
state it hands back holds everything a run carries from one step to the next (weights, optimiser
moments, history and every random generator, the global one included) as CPU tensors and plain
values, in the layout of a checkpoint, so that the next call, in this process or after the state
was pickled and loaded elsewhere, continues exactly where the last one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sklearn_tjepa.model.jepa import ModelSpec, encoder_state
from sklearn_tjepa.training.checkpoints import fingerprint_differences
from sklearn_tjepa.training.config import RunOptions, TrainConfig
from sklearn_tjepa.training.loop import (
    InMemoryRows,
    _Run,
    _validation_loss,
    iterations_per_epoch,
    pass_record,
    train_pass,
)
from sklearn_tjepa.training.monitoring import peak_memory
from sklearn_tjepa.training.rng import RandomStreams, seeded_torch
from sklearn_tjepa.training.schedules import RunSchedules

__all__ = ["IncrementResult", "train_increment"]


@dataclass
class IncrementResult:
    """What one call of :func:`train_increment` hands back.

    Attributes
    ----------
    state : dict
        The run's state after the call (CPU tensors and plain values), for the next call.
    target_state : dict of str to Tensor
        The target encoder's weights, on the CPU.
    record : dict
        The history record of the pass (the keys of an epoch's record in ``fit``).
    steps : int
        Optimiser steps taken.
    """

    state: dict
    target_state: dict
    record: dict
    steps: int


def _to_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_cpu(item) for item in value]
    return value


def _check_continues(run: _Run, state: dict) -> None:
    """Raise ``ValueError`` unless ``state`` was left by earlier calls with the same settings."""
    if state["fingerprint"] != run.fingerprint:
        differences = fingerprint_differences(state["fingerprint"], run.fingerprint)
        raise ValueError(
            f"partial_fit cannot continue the run of the earlier calls: since then {'; '.join(differences)}. "
            "Set these parameters back, or start a new run (clone the estimator)."
        )
    trained_on = state["ranks"][0]["device_type"]
    if trained_on != run.device.type:
        raise ValueError(
            f"partial_fit cannot continue the run of the earlier calls: they trained on {trained_on!r} and "
            f"this call would train on {run.device.type!r}, whose random generators differ; set "
            f"device={trained_on!r}."
        )


def train_increment(
    spec: ModelSpec,
    config: TrainConfig,
    options: RunOptions,
    x_num: np.ndarray,
    x_cat: np.ndarray,
    *,
    device: torch.device,
    state: dict | None,
    initial_encoder: dict | None = None,
    epoch_rows: int,
    step: int,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
) -> IncrementResult:
    """Train one pass over the encoded rows, continuing the run left in ``state``.

    The rows are visited in an order drawn from the run's data-order stream, in batches of
    ``config.batch_size`` (a last batch of one row is dropped). The schedules are those of a
    run of ``config.max_epochs`` epochs of ``epoch_rows`` rows each; step ``step`` onwards of
    them applies here, and past their end they hold their final values. A run whose calls all
    see the same rows, with ``epoch_rows`` their number, is the run ``fit`` trains on them, one
    epoch per call.

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    config : TrainConfig
        Training settings; ``config.seed`` must be the seed of the run in ``state``.
    options : RunOptions
        ``output`` and ``transform_batch_size`` (collapse statistics), ``data_on_device`` and
        ``recompute``.
    x_num, x_cat : ndarray
        The chunk's encoded rows, at least 2.
    device : torch.device
        Training device.
    state : dict or None
        The ``state`` of the previous call's result; None starts a new run.
    initial_encoder : dict of str to Tensor or None, default=None
        Weights that start both the context and the target encoder of a new run (a warm start
        from a trained encoder); not used when ``state`` is given.
    epoch_rows : int
        Rows of one epoch, which sets the length of the schedules.
    step : int
        Optimiser steps taken by the earlier calls.
    valid : (ndarray, ndarray) or None, default=None
        Encoded validation rows: their JEPA loss after the pass, with the fixed masks of
        ``fit``'s validation, is the record's ``valid_loss``. It changes nothing in the run.

    Returns
    -------
    IncrementResult

    Raises
    ------
    ValueError
        When ``state`` was left under other settings (named) or on another kind of device.

    Shape
    -----
    - x_num: ``(n, n_numerical)``, x_cat: ``(n, n_categorical)``
    - valid: ``((m, n_numerical), (m, n_categorical))``
    """
    with seeded_torch(RandomStreams(config.seed).seed("dropout"), device):
        run = _Run(spec, config, device, 0, 1, data_shapes=((x_num.shape[1],), (x_cat.shape[1],)), recompute=options.recompute)
        if state is not None:
            _check_continues(run, state)
            run.load(state)
        elif initial_encoder is not None:
            run.raw_student.encoder.load_state_dict(initial_encoder)
            run.target_encoder.load_state_dict(initial_encoder)
        schedules = RunSchedules.for_run(config, iterations_per_epoch(epoch_rows, config.batch_size))
        rows = InMemoryRows(x_num, x_cat)
        with peak_memory(device) as memory:
            rows.place(device, options.data_on_device)
            (batches,) = rows.windows(run, len(run.history))
            done = train_pass(run, schedules, batches, step)
        record = pass_record(run, options, len(run.history) + 1, done, memory, rows.monitor(run.streams))
        if valid is not None:
            record["valid_loss"] = _validation_loss(run, *(torch.from_numpy(np.ascontiguousarray(x)) for x in valid))
        run.history.append(record)
        new_state = _to_cpu(run.state([run._rank_state()], finished=False))
    return IncrementResult(new_state, encoder_state(run.target_encoder, copy=True), record, done.steps)
