"""Embeddings from a trained target encoder, in batches, in eval mode (torch only, no DataFrames)."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from sklearn_tjepa.model.encoder import TabularEncoder

__all__ = ["OUTPUTS", "pool_tokens", "embed", "autocast_for"]

OUTPUTS = ("flatten", "cls", "mean")


def autocast_for(device: torch.device, precision: str):
    """Autocast context for ``precision`` ("32" or "bf16") on ``device``."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def pool_tokens(tokens: torch.Tensor, output: str, n_cls_tokens: int) -> torch.Tensor:
    """Turn encoder tokens into one vector per row.

    Parameters
    ----------
    tokens : Tensor
        Encoder output over all tokens.
    output : {"flatten", "cls", "mean"}
        All tokens concatenated, the (first) CLS token, or the mean over feature tokens.
    n_cls_tokens : int
        Number of CLS tokens in front.

    Shape
    -----
    - tokens: ``(B, n_cls + D, d_model)``
    - output: ``(B, (n_cls + D) * d_model)`` for flatten, ``(B, d_model)`` otherwise
    """
    if output == "flatten":
        return tokens.flatten(1)
    if output == "cls":
        return tokens[:, 0]
    return tokens[:, n_cls_tokens:].mean(dim=1)


@torch.no_grad()
def embed(
    encoder: TabularEncoder,
    x_num: np.ndarray,
    x_cat: np.ndarray,
    *,
    output: str,
    batch_size: int,
    device: torch.device,
    precision: str = "32",
) -> np.ndarray:
    """Embed rows with ``encoder`` in eval mode, ``batch_size`` rows at a time, on ``device``.

    Rows are independent: an embedding does not depend on the other rows of its batch. The
    encoder is moved to ``device`` for the call and back to where it was afterwards, with its
    train/eval mode restored.

    Returns
    -------
    ndarray of float32
        One embedding per row.

    Shape
    -----
    - x_num: ``(n, n_numerical)``, x_cat: ``(n, n_categorical)``
    - output: ``(n, n_out)``
    """
    was_training = encoder.training
    home = next(encoder.parameters()).device
    encoder.to(device).eval()
    parts = []
    try:
        for start in range(0, max(len(x_num), len(x_cat)), batch_size):
            num = torch.from_numpy(np.ascontiguousarray(x_num[start : start + batch_size])).to(device)
            cat = torch.from_numpy(np.ascontiguousarray(x_cat[start : start + batch_size])).to(device)
            with autocast_for(device, precision):
                tokens = encoder(num, cat)
            parts.append(pool_tokens(tokens, output, encoder.n_cls_tokens).float().cpu().numpy())
    finally:
        encoder.to(home).train(was_training)
    return np.concatenate(parts, axis=0)
