"""Whether to recompute activations: an estimate of a training step's activation memory.

Activation checkpointing (``recompute``, see :class:`~sklearn_tjepa.model.TransformerStack`)
keeps only each transformer block's input for the backward pass and runs the block again there:
about one more forward pass of time for memory that no longer grows with depth.
``recompute="auto"`` turns it on when the estimate below exceeds a budget.

The estimate counts, per transformer block and per token, the tensors a pre-norm block keeps for
its backward pass: its input and normalised input, queries, keys and values, the attention
output before and after reshaping, the residual sum and its normalised copy (``10 * width``
floats with the layer-norm statistics), and the feed-forward hidden units before and after the
activation (``2 * ffn``), at 4 bytes each (float32; bf16 autocast keeps some of these in 2
bytes, so the estimate is an upper bound there). With ``B`` rows per batch, ``V`` context sets
and ``P`` target sets, ``c`` CLS tokens, ``D`` features and the largest context and target sizes
the masks can draw (``n_ctx``, ``n_trgt``)::

    encoder   = V * B * (c + n_ctx) * n_layers * (10 * d_model + 2 * ffn_dim)
    predictor = P * V * B * (c + min(n_ctx + n_trgt, D)) * predictor_n_layers
                * (10 * predictor_d_model + 2 * predictor_ffn_dim)     (transformer predictor)
    bytes     = 4 * (encoder + predictor)

The target encoder runs without gradients and keeps nothing. The budget is
``RECOMPUTE_BUDGET_BYTES`` (1 GiB) on the CPU and a quarter of the GPU's memory on CUDA.
"""

from __future__ import annotations

import torch

from sklearn_tjepa.model.jepa import ModelSpec
from sklearn_tjepa.model.masks import mask_count_bounds

__all__ = ["RECOMPUTE_BUDGET_BYTES", "activation_bytes", "recompute_budget", "resolve_recompute"]

#: Activation memory (bytes) above which ``recompute="auto"`` recomputes, on the CPU.
RECOMPUTE_BUDGET_BYTES = 2**30

_BYTES_PER_VALUE = 4


def _per_token_per_block(width: int, ffn: int) -> int:
    return 10 * width + 2 * ffn


def activation_bytes(spec: ModelSpec, config) -> int:
    """Estimated activation memory of one training step, in bytes (module docstring's formula).

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    config : TrainConfig or estimator
        Anything with ``batch_size``, ``n_context_sets``, ``n_target_sets`` and the mask share
        parameters as attributes.

    Returns
    -------
    int
    """
    n_features = spec.n_features
    _, n_ctx = mask_count_bounds(n_features, config.mask_min_context_share, config.mask_max_context_share)
    _, n_trgt = mask_count_bounds(n_features, config.mask_min_target_share, config.mask_max_target_share)
    sequences = config.n_context_sets * config.batch_size
    values = sequences * (spec.n_cls_tokens + n_ctx) * spec.n_layers * _per_token_per_block(spec.d_model, spec.ffn_dim)
    if spec.predictor == "transformer":
        length = spec.n_cls_tokens + min(n_ctx + n_trgt, n_features)
        values += (
            config.n_target_sets * sequences * length * spec.predictor_n_layers
            * _per_token_per_block(spec.predictor_d_model, spec.predictor_ffn_dim)
        )
    return _BYTES_PER_VALUE * values


def recompute_budget(device: torch.device) -> int:
    """Activation memory in bytes that ``recompute="auto"`` allows on ``device`` before recomputing.

    ``RECOMPUTE_BUDGET_BYTES`` on the CPU; a quarter of the device's total memory on CUDA.
    """
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory // 4
    return RECOMPUTE_BUDGET_BYTES


def resolve_recompute(recompute, spec: ModelSpec, config, device: torch.device) -> bool:
    """``recompute`` as a bool: ``"auto"`` is True when :func:`activation_bytes` exceeds :func:`recompute_budget`.

    Parameters
    ----------
    recompute : bool or "auto"
        The estimator's ``recompute`` parameter (already validated).
    spec : ModelSpec
        Architecture.
    config : TrainConfig
        Batch size, mask shares and set counts.
    device : torch.device
        Training device.

    Returns
    -------
    bool
    """
    if recompute == "auto":
        return activation_bytes(spec, config) > recompute_budget(device)
    return bool(recompute)
