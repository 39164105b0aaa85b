"""Plain settings of one pretraining run, handed from the estimator to the loop (and to workers)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, masking and engineering settings of a pretraining run.

    The attributes carry the estimator's parameters of the same names (see
    :class:`~sklearn_tjepa.TJEPATransformer` for their meaning); ``seed`` is the integer drawn
    from its ``random_state``.
    """

    seed: int
    max_epochs: int
    batch_size: int
    lr: float
    start_lr: float
    final_lr: float
    warmup_epochs: float
    weight_decay: float
    final_weight_decay: float
    ema_start: float
    ema_end: float
    ipe_scale: float
    grad_clip: float | None
    target_norm: str
    mask_min_ctx_share: float
    mask_max_ctx_share: float
    mask_min_trgt_share: float
    mask_max_trgt_share: float
    mask_num_preds: int
    mask_num_encs: int
    output: str
    transform_batch_size: int
    precision: str
    data_on_device: str
    patience: int
    checkpoint_dir: str | None
    checkpoint_every: int
    resume: bool
    verbose: int
