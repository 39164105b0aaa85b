"""Feature tokenizer: a table row becomes ``n_cls_tokens + D`` vectors of width ``d_model``.

One tokenizer serves T-JEPA's encoder and the token-based baselines (FT-Transformer, AutoInt).
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import torch
from rtdl_num_embeddings import LinearEmbeddings, PeriodicEmbeddings, PiecewiseLinearEmbeddings
from rtdl_revisiting_models import CategoricalEmbeddings
from torch import nn

__all__ = ["FeatureTokenizer", "sinusoidal_positions", "NUMERICAL_EMBEDDINGS"]

NUMERICAL_EMBEDDINGS = ("linear", "periodic", "piecewise_linear")


def sinusoidal_positions(n_positions: int, width: int, base: float = 100.0) -> torch.Tensor:
    """Fixed sinusoidal encoding of positions ``0..n_positions-1``.

    Parameters
    ----------
    n_positions : int
        Number of positions.
    width : int
        Encoding width.
    base : float, default=100.0
        Wavelength base (the T-JEPA reference uses 100 rather than the usual 10000).

    Returns
    -------
    Tensor

    Shape
    -----
    ``(n_positions, width)``
    """
    position = torch.arange(n_positions, dtype=torch.float64).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float64) * (-math.log(base) / width))
    table = torch.zeros(n_positions, width, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table.float()


class _ScaledEmbeddings(nn.Module):
    """``x_j * w_j`` for every numerical feature ``j``: linear embeddings without a bias (AutoInt's).

    ``rtdl_num_embeddings.LinearEmbeddings`` always adds a bias; this is the same without it.
    """

    def __init__(self, n_features: int, d_model: int):
        super().__init__()
        bound = d_model**-0.5
        self.weight = nn.Parameter(torch.empty(n_features, d_model).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(-1) * self.weight


class FeatureTokenizer(nn.Module):
    """Embed numerical and categorical features into tokens, in the input's column order.

    T-JEPA's encoder uses every option; FT-Transformer is ``bias=True`` and AutoInt
    ``bias=False``, both with ``n_cls_tokens`` 1 or 0, no index or type embedding and
    ``positional_base=None``.

    Parameters
    ----------
    numerical_positions, categorical_positions : sequence of int
        Input column positions of the numerical and the categorical features; together they are
        ``0..D-1``. Tokens come out in that input order.
    cardinalities : sequence of int
        Rows of each categorical feature's table, including row 0 for missing/unknown values.
    d_model : int
        Token width.
    n_cls_tokens : int, default=1
        Learned CLS tokens prepended to the feature tokens (0 for none).
    numerical_embedding : {"linear", "periodic", "piecewise_linear"}, default="linear"
        How a numerical value becomes a vector: the paper's ``x * W + b``
        (``rtdl_num_embeddings.LinearEmbeddings``), or the periodic and piecewise-linear
        embeddings of Gorishniy et al. (2022) from ``rtdl_num_embeddings``.
    numerical_bins : list of Tensor or None
        Bin edges per numerical feature, required by ``"piecewise_linear"``.
    feature_index_embedding : bool, default=True
        Add a learned vector per feature position.
    feature_type_embedding : bool, default=True
        Add a learned vector per feature type (numerical or categorical).
    positional_base : float or None, default=100.0
        Base of the fixed sinusoidal encoding added over token positions; None adds none.
    bias : bool, default=True
        Per-feature bias vectors of the linear numerical embedding and of the categorical
        embeddings (``rtdl_revisiting_models.CategoricalEmbeddings``); False gives ``x * W``.

    Notes
    -----
    A missing numerical value (NaN) is replaced by a learned per-feature missing vector; a
    categorical code 0 (missing or unseen) selects the table's reserved row.
    """

    def __init__(
        self,
        *,
        numerical_positions: Sequence[int],
        categorical_positions: Sequence[int],
        cardinalities: Sequence[int],
        d_model: int,
        n_cls_tokens: int = 1,
        numerical_embedding: str = "linear",
        numerical_bins: list[torch.Tensor] | None = None,
        feature_index_embedding: bool = True,
        feature_type_embedding: bool = True,
        positional_base: float | None = 100.0,
        bias: bool = True,
    ):
        super().__init__()
        n_num, n_cat = len(numerical_positions), len(categorical_positions)
        if len(cardinalities) != n_cat:
            raise ValueError(
                f"cardinalities must have one entry per categorical feature, got "
                f"{len(cardinalities)} for {n_cat} features"
            )
        self.n_features = n_num + n_cat
        self.n_cls_tokens = n_cls_tokens
        bound = d_model**-0.5
        order = torch.argsort(torch.as_tensor(list(numerical_positions) + list(categorical_positions), dtype=torch.long))
        in_order = torch.equal(order, torch.arange(self.n_features))
        self.register_buffer("input_order", None if in_order else order, persistent=False)
        self.register_buffer("feature_types", (order >= n_num).long(), persistent=False)
        self.numerical = self._numerical_module(numerical_embedding, n_num, d_model, numerical_bins, bias) if n_num else None
        self.numerical_missing = nn.Parameter(torch.empty(n_num, d_model).uniform_(-bound, bound)) if n_num else None
        self.categorical = CategoricalEmbeddings(list(cardinalities), d_model, bias=bias) if n_cat else None
        self.cls = nn.Parameter(torch.empty(n_cls_tokens, d_model).uniform_(-bound, bound)) if n_cls_tokens else None
        self.index_embedding = (
            nn.Parameter(torch.empty(self.n_features, d_model).uniform_(-bound, bound))
            if feature_index_embedding
            else None
        )
        self.type_embedding = (
            nn.Parameter(torch.empty(2, d_model).uniform_(-bound, bound)) if feature_type_embedding else None
        )
        positions = None
        if positional_base is not None:
            positions = sinusoidal_positions(n_cls_tokens + self.n_features, d_model, positional_base)
        self.register_buffer("positions", positions, persistent=False)

    @property
    def n_tokens(self) -> int:
        """Tokens per row: ``n_cls_tokens + D``."""
        return self.n_cls_tokens + self.n_features

    @staticmethod
    def _numerical_module(kind, n_num, d_model, bins, bias):
        if kind == "linear":
            return LinearEmbeddings(n_num, d_model) if bias else _ScaledEmbeddings(n_num, d_model)
        if kind == "periodic":
            return PeriodicEmbeddings(n_num, d_model, lite=False)
        if kind == "piecewise_linear":
            if bins is None:
                raise ValueError("numerical_embedding='piecewise_linear' needs numerical_bins")
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*has just two bin edges", category=UserWarning)
                return PiecewiseLinearEmbeddings(bins, d_model, activation=False, version="B")
        raise ValueError(f"numerical_embedding must be one of {NUMERICAL_EMBEDDINGS}, got {kind!r}")

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Return the tokens of a batch.

        Parameters
        ----------
        x_num : Tensor
            Scaled numerical values, NaN where missing.
        x_cat : LongTensor
            Category codes, 0 for missing/unknown.

        Returns
        -------
        Tensor
            CLS tokens then one token per feature, in input column order.

        Shape
        -----
        - x_num: ``(B, n_numerical)``
        - x_cat: ``(B, n_categorical)``
        - output: ``(B, n_cls_tokens + D, d_model)``
        """
        parts = []
        if self.numerical is not None:
            missing = torch.isnan(x_num)
            values = self.numerical(x_num.masked_fill(missing, 0.0))
            parts.append(torch.where(missing.unsqueeze(-1), self.numerical_missing, values))
        if self.categorical is not None:
            parts.append(self.categorical(x_cat))
        tokens = torch.cat(parts, dim=1)
        if self.input_order is not None:
            tokens = tokens.index_select(1, self.input_order)
        if self.index_embedding is not None:
            tokens = tokens + self.index_embedding
        if self.type_embedding is not None:
            tokens = tokens + self.type_embedding[self.feature_types]
        if self.cls is not None:
            tokens = torch.cat([self.cls.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        return tokens if self.positions is None else tokens + self.positions
