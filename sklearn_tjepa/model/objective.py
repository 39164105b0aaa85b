"""The T-JEPA objective: targets from the EMA target encoder, and the loss of one batch.

The training loop samples the masks and calls :func:`jepa_loss`; everything the loss is made of
lives here. :func:`jepa_loss` is the one place where the terms of the objective are combined.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_tjepa.model.encoder import TabularEncoder

__all__ = ["TARGET_NORMS", "target_tokens", "prediction_loss", "jepa_loss"]

TARGET_NORMS = ("none", "layer", "batch")


@torch.no_grad()
def target_tokens(
    target_encoder: TabularEncoder,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    targets: torch.Tensor,
    *,
    n_views: int,
    norm: str,
) -> torch.Tensor:
    """The target encoder's tokens at the target positions, paired with each context view.

    The encoder runs in eval mode (no dropout) on all tokens. ``norm`` normalises the targets:
    ``"layer"`` over each token's dimensions (as I-JEPA); ``"batch"`` standardises every
    (feature, dimension) across the batch's rows, so that the loss measures how well the
    row-to-row variation is predicted rather than the per-feature mean that dominates the tokens;
    ``"none"`` leaves them as they are.

    Parameters
    ----------
    target_encoder : TabularEncoder
        The EMA target encoder.
    x_num, x_cat : Tensor
        The batch (see :class:`~sklearn_tjepa.model.FeatureTokenizer`).
    targets : LongTensor
        Target feature indices from :meth:`~sklearn_tjepa.model.MaskSampler.sample`.
    n_views : int
        Number of context views ``V``; each target set is repeated once per view.
    norm : {"none", "layer", "batch"}
        Normalisation of the target tokens.

    Returns
    -------
    Tensor
        Target tokens, ordered like the predictors' output.

    Shape
    -----
    - targets: ``(P, B, n_trgt)``
    - output: ``(P * n_views * B, n_trgt, d_model)``
    """
    features = target_encoder(x_num, x_cat)[:, target_encoder.n_cls_tokens :]
    if norm == "layer":
        features = F.layer_norm(features, features.shape[-1:])
    elif norm == "batch":
        features = (features - features.mean(dim=0)) / (features.std(dim=0) + 1e-6)
    n_preds, batch, n_trgt = targets.shape
    width = features.shape[-1]
    index = targets.unsqueeze(-1).expand(-1, -1, -1, width)
    picked = torch.gather(features.unsqueeze(0).expand(n_preds, -1, -1, -1), 2, index)
    return picked.unsqueeze(1).expand(-1, n_views, -1, -1, -1).reshape(n_preds * n_views * batch, n_trgt, width)


def prediction_loss(predicted: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """Mean squared error between predicted and target tokens, computed in float32.

    Shape
    -----
    - predicted, expected: ``(P * V * B, n_trgt, d_model)``
    - output: ``()``
    """
    return F.mse_loss(predicted.float(), expected.float())


def jepa_loss(
    student: nn.Module,
    target_encoder: TabularEncoder,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    context: torch.Tensor,
    targets: torch.Tensor,
    *,
    target_norm: str,
) -> torch.Tensor:
    """The training objective of one batch under given masks.

    Today the objective is the prediction loss alone: the student (context encoder and
    predictor, :class:`~sklearn_tjepa.model.JEPAStudent`) predicts the target encoder's
    normalised tokens at the target positions from the context. Further terms of the objective
    are added to the returned sum here.

    Parameters
    ----------
    student : JEPAStudent
        Context encoder and predictor (possibly wrapped in DistributedDataParallel).
    target_encoder : TabularEncoder
        The EMA target encoder.
    x_num, x_cat : Tensor
        The batch.
    context, targets : LongTensor
        The masks of the batch, from :meth:`~sklearn_tjepa.model.MaskSampler.sample`.
    target_norm : {"none", "layer", "batch"}
        Normalisation of the target tokens (see :func:`target_tokens`).

    Returns
    -------
    Tensor
        The scalar loss.

    Shape
    -----
    - x_num: ``(B, n_numerical)``, x_cat: ``(B, n_categorical)``
    - context: ``(V, B, n_ctx)``, targets: ``(P, B, n_trgt)``
    - output: ``()``
    """
    expected = target_tokens(target_encoder, x_num, x_cat, targets, n_views=context.shape[0], norm=target_norm)
    predicted = student(x_num, x_cat, context, targets)
    return prediction_loss(predicted, expected)
