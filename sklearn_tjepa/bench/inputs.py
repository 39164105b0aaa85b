"""What a downstream model reads: the raw table, frozen T-JEPA tokens, or both.

- Raw cells (``features="raw"``) read the raw table.
- With ``+tjepa`` / ``+untrained``, the GBDTs and ``linear`` read the raw columns *plus* the
  flattened tokens (what ``sklearn.pipeline.make_union`` of the raw columns and the transformer
  gives); nobody would hand a tree only the embeddings.
- The deep baselines read the tokens alone: a learned linear reduction of each token to one
  number before the network (``token_reading="per_token"``) or the flattened tokens
  (``"flatten"``).
- ``finetune`` reads the raw table through the encoder it fine-tunes (with ``+target``, the label
  column of its target-aware pretraining is missing in every row it reads).

:func:`describe_reading` says which, in the words the report prints (``config.reads`` of every
result).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklearn_tjepa.baselines import GBDT_NAMES
from sklearn_tjepa.bench.pretrain import TARGET_AWARE

__all__ = ["RAW_PLUS_TOKENS", "describe_reading", "model_input"]

#: Models that keep the raw columns beside the flattened tokens.
RAW_PLUS_TOKENS = (*GBDT_NAMES, "linear")
# Prefix of the token columns appended to the raw table.
_TOKEN_PREFIX = "tjepa_"


def model_input(model: str, raw: pd.DataFrame, embeddings: np.ndarray):
    """The table ``model`` reads on frozen tokens.

    Parameters
    ----------
    model : str
        A model of the grid other than ``finetune``.
    raw : DataFrame of shape (n_rows, n_columns)
        The raw rows.
    embeddings : ndarray of shape (n_rows, n_tokens * token_width)
        Their flattened tokens, in the same row order.

    Returns
    -------
    X : DataFrame of shape (n_rows, n_columns + n_tokens * token_width) or ndarray
        The raw columns followed by columns ``tjepa_0``, ``tjepa_1``, ... for the models of
        :data:`RAW_PLUS_TOKENS`; ``embeddings`` itself for the others.
    """
    if len(raw) != len(embeddings):
        raise ValueError(
            f"raw and embeddings must hold the same rows, got {len(raw)} raw rows and "
            f"{len(embeddings)} rows of embeddings"
        )
    if model not in RAW_PLUS_TOKENS:
        return embeddings
    tokens = pd.DataFrame(
        embeddings, columns=[f"{_TOKEN_PREFIX}{j}" for j in range(embeddings.shape[1])]
    )
    return pd.concat([raw.reset_index(drop=True), tokens], axis=1)


def describe_reading(model: str, features: str, *, token_reading: str | None = None,
                     n_tokens: int | None = None, token_width: int | None = None) -> str:
    """What a cell's model reads, in words (``config.reads`` of its result).

    Parameters
    ----------
    model : str
    features : {"raw", "tjepa", "untrained", "target"}
    token_reading : {"per_token", "flatten"} or None
        The budget's reading of tokens by the deep baselines.
    n_tokens, token_width : int or None
        Shape of the tokens of one row (needed unless ``features="raw"``).

    Returns
    -------
    reads : str
        For example ``"raw + flattened tokens (15 x 64)"``.
    """
    if model == "finetune" and features == TARGET_AWARE:
        return ("raw table, label column missing, through the target-aware pretrained encoder, "
                "fine-tuned end to end with a head")
    if model == "finetune":
        encoder = "pretrained" if features == "tjepa" else "untrained"
        return f"raw table through the {encoder} encoder, fine-tuned end to end with a head"
    if features == "raw":
        return "raw table"
    shape = f"{n_tokens} x {token_width}"
    if model in RAW_PLUS_TOKENS:
        return f"raw + flattened tokens ({shape})"
    if token_reading == "per_token":
        return f"tokens ({shape}), each reduced to one number by a learned linear map"
    return f"flattened tokens ({shape})"
