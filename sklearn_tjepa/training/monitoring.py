"""Collapse statistics of embeddings and peak-memory readings for the training history."""

from __future__ import annotations

import resource
import sys

import torch

__all__ = ["collapse_statistics", "peak_memory_mb"]


@torch.no_grad()
def collapse_statistics(embeddings: torch.Tensor) -> dict[str, float]:
    """Spread of embeddings across rows: signs of (partial) representation collapse.

    Parameters
    ----------
    embeddings : Tensor
        One embedding per row.

    Returns
    -------
    dict
        ``embedding_std``: mean over dimensions of the standard deviation across rows;
        ``effective_rank``: ``exp`` of the entropy of the normalised singular values of the
        centred embeddings (Roy & Vetterli 2007); 1 means every row maps to one line.

    Shape
    -----
    embeddings: ``(n_rows, n_dims)``, ``n_rows >= 2``
    """
    values = embeddings.double()
    centred = values - values.mean(dim=0)
    singular = torch.linalg.svdvals(centred)
    weights = singular / singular.sum().clamp_min(1e-12)
    entropy = -(weights * torch.log(weights.clamp_min(1e-30))).sum()
    return {
        "embedding_std": float(values.std(dim=0).mean()),
        "effective_rank": float(torch.exp(entropy)),
    }


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory in MiB: CUDA allocator peak on a GPU, the process's peak RSS on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
