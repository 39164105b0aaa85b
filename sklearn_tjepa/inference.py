"""Embeddings from a trained target encoder, in batches, in eval mode (torch only, no DataFrames)."""

from __future__ import annotations

import numpy as np
import torch

from sklearn_tjepa.model.encoder import TabularEncoder
from sklearn_tjepa.precision import autocast_for

__all__ = ["OUTPUTS", "pool_tokens", "n_outputs", "embed"]

OUTPUTS = ("flatten", "cls", "mean")


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


def n_outputs(encoder: TabularEncoder, output: str) -> int:
    """Width of one row's embedding: ``(n_cls_tokens + D) * d_model`` for flatten, else ``d_model``."""
    d_model = encoder.transformer.norm.normalized_shape[0]
    if output == "flatten":
        return encoder.tokenizer.n_tokens * d_model
    return d_model


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
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Embed rows with ``encoder`` in eval mode, ``batch_size`` rows at a time, on ``device``.

    Rows are independent: an embedding does not depend on the other rows of its batch. The
    encoder is moved to ``device`` for the call and back to where it was afterwards, with its
    train/eval mode restored. Each batch's embeddings are written into ``out`` as they come, so
    the only copy of the result is ``out`` (no list of blocks joined at the end).

    Parameters
    ----------
    encoder : TabularEncoder
        The trained (target) encoder.
    x_num, x_cat : ndarray
        Encoded rows (see :class:`~sklearn_tjepa.preprocessing.EncodedTable`).
    output : {"flatten", "cls", "mean"}
        Pooling of the tokens (:func:`pool_tokens`).
    batch_size : int
        Rows per forward pass.
    device : torch.device
        Where the forward passes run.
    precision : {"32", "bf16"}, default="32"
        Resolved precision of the forward passes (:func:`~sklearn_tjepa.precision.resolve_precision`).
    out : ndarray or None, default=None
        Array to write the embeddings into (any float dtype; each batch is cast to it); a new
        float32 array when None.

    Returns
    -------
    ndarray
        ``out``, filled: one embedding per row.

    Shape
    -----
    - x_num: ``(n, n_numerical)``, x_cat: ``(n, n_categorical)``
    - out: ``(n, n_out)``, ``n_out`` from :func:`n_outputs`
    """
    n_rows = max(len(x_num), len(x_cat))
    if out is None:
        out = np.empty((n_rows, n_outputs(encoder, output)), dtype=np.float32)
    if out.shape != (n_rows, n_outputs(encoder, output)):
        raise ValueError(
            f"out must have shape {(n_rows, n_outputs(encoder, output))} for {n_rows} rows with "
            f"output={output!r}, got out.shape={out.shape}"
        )
    was_training = encoder.training
    home = next(encoder.parameters()).device
    encoder.to(device).eval()
    try:
        for start in range(0, n_rows, batch_size):
            num = torch.from_numpy(np.ascontiguousarray(x_num[start : start + batch_size])).to(device)
            cat = torch.from_numpy(np.ascontiguousarray(x_cat[start : start + batch_size])).to(device)
            with autocast_for(device, precision):
                tokens = encoder(num, cat)
            out[start : start + batch_size] = pool_tokens(tokens, output, encoder.n_cls_tokens).float().cpu().numpy()
    finally:
        encoder.to(home).train(was_training)
    return out
