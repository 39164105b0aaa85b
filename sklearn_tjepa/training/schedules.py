"""Per-iteration schedules of learning rate, weight decay and EMA momentum.

Each schedule is a pure function of the iteration number, so a resumed run continues exactly where
it stopped, and the loop applies the value *before* every optimiser step, the first included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["WarmupCosine", "Cosine", "Linear", "RunSchedules"]


@dataclass(frozen=True)
class WarmupCosine:
    """Linear warm-up from ``start`` to ``peak`` over ``warmup_steps``, then cosine to ``final``.

    Parameters
    ----------
    start, peak, final : float
        Values at step 0, at the end of the warm-up and at ``total_steps``.
    warmup_steps, total_steps : int
        Lengths in iterations.
    """

    start: float
    peak: float
    final: float
    warmup_steps: int
    total_steps: int

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.start + (self.peak - self.start) * step / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return self.final + (self.peak - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class Cosine:
    """Cosine from ``start`` at step 0 to ``final`` at ``total_steps`` (held after)."""

    start: float
    final: float
    total_steps: int

    def __call__(self, step: int) -> float:
        progress = min(1.0, step / max(1, self.total_steps))
        return self.final + (self.start - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class Linear:
    """Linear from ``start`` at step 0 to ``final`` at ``total_steps`` (held after).

    With ``total_steps = ema_horizon_scale * iterations`` and ``ema_horizon_scale > 1`` this is
    the EMA momentum schedule, which does not reach ``final`` within training.
    """

    start: float
    final: float
    total_steps: int

    def __call__(self, step: int) -> float:
        progress = min(1.0, step / max(1, self.total_steps))
        return self.start + (self.final - self.start) * progress


@dataclass(frozen=True)
class RunSchedules:
    """The three schedules of a run of ``config.max_epochs`` epochs of ``steps_per_epoch`` steps.

    Learning rate: warm-up over ``config.warmup_epochs`` epochs, then cosine to the end of the
    run; weight decay: cosine over the run; EMA momentum: linear over
    ``config.ema_horizon_scale`` times the run. Past the run's end each holds its final value.

    Parameters
    ----------
    lr : WarmupCosine
    weight_decay : Cosine
    momentum : Linear
    """

    lr: WarmupCosine
    weight_decay: Cosine
    momentum: Linear

    @classmethod
    def for_run(cls, config, steps_per_epoch: int) -> "RunSchedules":
        """The schedules of ``config`` (a :class:`~sklearn_tjepa.training.config.TrainConfig`)."""
        total = steps_per_epoch * config.max_epochs
        return cls(
            WarmupCosine(config.start_lr, config.lr, config.final_lr, round(config.warmup_epochs * steps_per_epoch), total),
            Cosine(config.weight_decay, config.final_weight_decay, total),
            Linear(config.ema_start, config.ema_end, round(config.ema_horizon_scale * total)),
        )

    def __call__(self, step: int) -> tuple[float, float, float]:
        """Learning rate, weight decay and momentum of the optimiser step ``step`` (from 0)."""
        return self.lr(step), self.weight_decay(step), self.momentum(step)
