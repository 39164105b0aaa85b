"""AdamW with separate parameter groups for decayed weights and undecayed biases/1-D parameters."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NO_DECAY_NAMES", "make_optimizer"]

NO_DECAY_NAMES = ("bias", "cls", "mask_token", "numerical_missing", "index_embedding", "type_embedding")


def _is_decayed(name: str, parameter: nn.Parameter) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    # "in", not "endswith": the MLP predictor's stacked biases are named bias_in / bias_out
    return parameter.ndim >= 2 and not any(token in leaf for token in NO_DECAY_NAMES)


def make_optimizer(student: nn.Module) -> torch.optim.AdamW:
    """AdamW over the student's encoder and predictor, four groups as in I-JEPA.

    Weights (matrices and embedding tables) of the encoder and of the predictor are decayed;
    biases, norms, CLS/mask tokens and learned position-like vectors are not. Each group carries a
    ``decay`` flag; the loop sets ``lr`` and ``weight_decay`` of every group before each step.
    """
    groups = []
    for part in ("encoder", "predictor"):
        named = list(getattr(student, part).named_parameters())
        for decay in (True, False):
            params = [p for name, p in named if _is_decayed(name, p) == decay]
            if params:
                groups.append({"params": params, "decay": decay, "weight_decay": 0.0, "name": f"{part}-{'decay' if decay else 'no-decay'}"})
    return torch.optim.AdamW(groups, lr=0.0)
