"""Plain settings of one pretraining run, handed from the estimator to the loop (and to workers).

:class:`TrainConfig` holds what decides what a run learns; :class:`RunOptions` holds how the run
is carried out (monitoring, placement of the data, logging, checkpoints), which never changes
the trained weights. Both are filled by field name from the parameters of
:class:`~sklearn_tjepa.TJEPATransformer` that carry the same names.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

__all__ = ["TrainConfig", "RunOptions", "RESUMABLE", "from_params"]

#: Metadata key of the :class:`TrainConfig` fields that a resumed run may change (when to stop).
RESUMABLE = "resumable"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and masking settings of a pretraining run: everything that shapes the weights.

    The attributes carry the estimator's parameters of the same names (see
    :class:`~sklearn_tjepa.TJEPATransformer` for their meaning); ``seed`` is the integer drawn
    from its ``random_state`` (see :class:`~sklearn_tjepa.training.rng.RandomStreams`),
    ``patience`` is None when nothing stops training early, and ``precision`` is the resolved
    precision, ``"32"`` or ``"bf16"`` (see :func:`~sklearn_tjepa.precision.resolve_precision`). The fields marked resumable
    (``max_epochs``, ``patience``) say when to stop and may differ in a resumed run; every other
    field is part of the checkpoint's fingerprint.
    """

    seed: int
    max_epochs: int = field(metadata={RESUMABLE: True})
    patience: int | None = field(metadata={RESUMABLE: True})
    batch_size: int
    lr: float
    start_lr: float
    final_lr: float
    warmup_epochs: float
    weight_decay: float
    final_weight_decay: float
    ema_start: float
    ema_end: float
    ema_horizon_scale: float
    grad_clip: float | None
    target_norm: str
    missing_share: float
    variance_weight: float
    covariance_weight: float
    mask_min_context_share: float
    mask_max_context_share: float
    mask_min_target_share: float
    mask_max_target_share: float
    n_target_sets: int
    n_context_sets: int
    precision: str

    def learned_settings(self) -> dict:
        """The fields that decide the weights, i.e. all but the resumable ones, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.metadata.get(RESUMABLE)}


@dataclass(frozen=True)
class RunOptions:
    """How a pretraining run is carried out; none of these change the trained weights.

    The attributes carry the estimator's parameters of the same names: ``output`` and
    ``transform_batch_size`` for the collapse statistics of the history, ``data_on_device``,
    ``verbose``, the checkpoint settings ``checkpoint_dir``, ``checkpoint_every``,
    ``checkpoint_every_rows`` and ``resume``, and ``recompute`` resolved to a bool (see
    :func:`~sklearn_tjepa.training.memory.resolve_recompute`).
    """

    output: str
    transform_batch_size: int
    data_on_device: str
    verbose: int
    checkpoint_dir: str | os.PathLike | None
    checkpoint_every: int
    checkpoint_every_rows: int | None
    resume: bool
    recompute: bool


def from_params(cls, params: dict, **derived):
    """Build the dataclass ``cls`` from ``params`` by field name; ``derived`` values take precedence.

    Parameters
    ----------
    cls : dataclass type
        :class:`TrainConfig`, :class:`RunOptions` or :class:`~sklearn_tjepa.model.ModelSpec`.
    params : dict
        The estimator's ``get_params(deep=False)``; keys that are not fields of ``cls`` are
        ignored.
    **derived
        Fields that do not come from a parameter (or replace one), e.g. ``seed``.

    Raises
    ------
    TypeError
        When a field of ``cls`` is neither in ``params`` nor in ``derived``.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{name: value for name, value in params.items() if name in names and name not in derived}, **derived)
