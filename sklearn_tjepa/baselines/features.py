"""Input layers that turn ``(x_num, x_cat)`` into what a backbone reads, NaN included.

``x_num`` comes from :class:`~sklearn_tjepa.preprocessing.TablePreprocessor` with NaN for a
missing value and ``x_cat`` with code 0 for a missing or unseen category. Code 0 has its own
embedding row, so categorical columns need nothing more; a missing numerical value never reaches
the backbone as NaN: :class:`FlatFeatures` writes 0 and a 0/1 indicator, the tokens of
:func:`feature_tokens` (the package's :class:`~sklearn_tjepa.model.FeatureTokenizer`) substitute a
learned per-column token.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from rtdl_revisiting_models import CategoricalEmbeddings
from torch import Tensor, nn

from sklearn_tjepa.model.tokenizer import FeatureTokenizer

__all__ = ["FlatFeatures", "feature_tokens", "TabularNet", "TokenReduction"]


class FlatFeatures(nn.Module):
    """Concatenate numerical values, missing-value indicators and categorical embeddings.

    The input of the MLP, ResNet and DCNv2 baselines (Gorishniy et al., 2021): numerical values
    as they are, NaN replaced by 0, one 0/1 indicator for each column in ``missing_columns`` and
    one embedding of size ``d_embedding`` per categorical column.

    Parameters
    ----------
    n_num : int
        Number of numerical columns.
    missing_columns : sequence of int
        Positions in ``x_num`` of the columns that get a missing-value indicator (typically the
        columns with a NaN in the training data).
    cat_cardinalities : sequence of int
        Number of codes of each categorical column, the missing code 0 included.
    d_embedding : int
        Size of each categorical embedding.

    Attributes
    ----------
    d_out : int
        ``n_num + len(missing_columns) + len(cat_cardinalities) * d_embedding``.

    Shape
    -----
    - x_num: ``(batch, n_num)``, float, NaN for missing values.
    - x_cat: ``(batch, n_cat)``, int64 codes.
    - Output: ``(batch, d_out)``.

    Examples
    --------
    >>> import torch
    >>> m = FlatFeatures(n_num=2, missing_columns=[1], cat_cardinalities=[3], d_embedding=4)
    >>> m(torch.tensor([[0.5, float("nan")]]), torch.tensor([[2]])).shape
    torch.Size([1, 7])
    """

    def __init__(
        self,
        *,
        n_num: int,
        missing_columns: Sequence[int],
        cat_cardinalities: Sequence[int],
        d_embedding: int,
    ) -> None:
        super().__init__()
        self.register_buffer(
            "missing_columns", torch.as_tensor(list(missing_columns), dtype=torch.long)
        )
        self.cat_embeddings = (
            CategoricalEmbeddings(list(cat_cardinalities), d_embedding, bias=False)
            if len(cat_cardinalities)
            else None
        )
        self.d_out = n_num + len(missing_columns) + len(cat_cardinalities) * d_embedding

    def forward(self, x_num: Tensor, x_cat: Tensor) -> Tensor:
        """Build the flat input (see the class docstring for shapes)."""
        missing = torch.isnan(x_num)
        parts = [
            x_num.masked_fill(missing, 0.0),
            missing[:, self.missing_columns].to(x_num.dtype),
        ]
        if self.cat_embeddings is not None:
            parts.append(self.cat_embeddings(x_cat).flatten(1))
        return torch.cat(parts, dim=1)


def feature_tokens(*, n_num: int, cat_cardinalities: Sequence[int], d_token: int, bias: bool = True, cls: bool = False) -> FeatureTokenizer:
    """One token per column, plus an optional leading [CLS] token: the package's tokenizer.

    The feature tokenizer of FT-Transformer (with ``bias=True``) and of AutoInt (``bias=False``):
    numerical column ``j`` becomes ``x_j * w_j (+ b_j)``, or the learned token ``m_j`` where
    ``x_j`` is NaN; categorical columns use
    :class:`rtdl_revisiting_models.CategoricalEmbeddings`. Numerical tokens come first, without
    position, index or type embeddings.

    Parameters
    ----------
    n_num : int
        Number of numerical columns.
    cat_cardinalities : sequence of int
        Number of codes of each categorical column, the missing code 0 included.
    d_token : int
        Token size.
    bias : bool, default=True
        Add a per-column bias vector to every token.
    cls : bool, default=False
        Prepend a learned [CLS] token.

    Returns
    -------
    FeatureTokenizer
        Its ``n_tokens`` is ``int(cls) + n_num + len(cat_cardinalities)``.

    Shape
    -----
    - x_num: ``(batch, n_num)``, float, NaN for missing values.
    - x_cat: ``(batch, n_cat)``, int64 codes.
    - Output: ``(batch, n_tokens, d_token)``.

    Examples
    --------
    >>> import torch
    >>> m = feature_tokens(n_num=2, cat_cardinalities=[3], d_token=4, cls=True)
    >>> m(torch.tensor([[0.5, float("nan")]]), torch.tensor([[0]])).shape
    torch.Size([1, 4, 4])
    """
    n_cat = len(cat_cardinalities)
    return FeatureTokenizer(
        numerical_positions=range(n_num),
        categorical_positions=range(n_num, n_num + n_cat),
        cardinalities=list(cat_cardinalities),
        d_model=d_token,
        n_cls_tokens=int(cls),
        feature_index_embedding=False,
        feature_type_embedding=False,
        positional_base=None,
        bias=bias,
    )


class TabularNet(nn.Module):
    """An input layer followed by a backbone: the module that skorch trains.

    Parameters
    ----------
    features : nn.Module
        :class:`FlatFeatures` or :func:`feature_tokens`.
    backbone : nn.Module
        Maps the output of ``features`` to ``(batch, d_out)``.

    Shape
    -----
    - x_num: ``(batch, n_num)``, float, NaN for missing values.
    - x_cat: ``(batch, n_cat)``, int64 codes.
    - Output: ``(batch, d_out)``: class logits or the standardized regression target.
    """

    def __init__(self, features: nn.Module, backbone: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.backbone = backbone

    def forward(self, x_num: Tensor, x_cat: Tensor) -> Tensor:
        """Input layer then backbone (see the class docstring for shapes)."""
        return self.backbone(self.features(x_num, x_cat))


class TokenReduction(nn.Module):
    """Reduce each token of a flattened token table to one number, then run a network.

    The T-JEPA paper's reading of frozen encoder tokens on Adult ("linear per feature"; its
    tuned California models map the flattened tokens linearly instead): the numerical input holds ``n_tokens`` consecutive tokens of ``token_width`` values; token ``t`` becomes
    ``x_t @ w_t + b_t`` with its own learned weights, and ``net`` reads the ``n_tokens`` numbers.

    Parameters
    ----------
    net : nn.Module
        Network called as ``net(x_reduced, x_cat)``, built for ``n_tokens`` numerical inputs.
    n_tokens : int
        Number of tokens.
    token_width : int
        Values per token.

    Shape
    -----
    - x_num: ``(batch, n_tokens * token_width)``, float, no NaN.
    - x_cat: ``(batch, n_cat)``, int64 codes, passed through.
    - Output: the output of ``net``.

    Examples
    --------
    >>> import torch
    >>> net = TabularNet(FlatFeatures(n_num=3, missing_columns=[], cat_cardinalities=[],
    ...                               d_embedding=1), nn.Linear(3, 2))
    >>> m = TokenReduction(net, n_tokens=3, token_width=4)
    >>> m(torch.zeros(5, 12), torch.zeros(5, 0, dtype=torch.long)).shape
    torch.Size([5, 2])
    """

    def __init__(self, net: nn.Module, *, n_tokens: int, token_width: int) -> None:
        super().__init__()
        self.n_tokens = n_tokens
        self.token_width = token_width
        bound = token_width**-0.5
        self.weight = nn.Parameter(torch.empty(n_tokens, token_width).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(n_tokens))
        self.net = net

    def forward(self, x_num: Tensor, x_cat: Tensor) -> Tensor:
        """Reduce the tokens, then run ``net`` (see the class docstring for shapes)."""
        tokens = x_num.reshape(x_num.shape[0], self.n_tokens, self.token_width)
        reduced = (tokens * self.weight).sum(dim=-1) + self.bias
        return self.net(reduced, x_cat)
