"""The T-JEPA objective: targets from the EMA target encoder, and the loss of one batch.

The training loop samples the masks and calls :func:`jepa_loss`; everything the loss is made of
lives here: the prediction loss, the inputs hidden as missing from the student and the
variance/covariance term on the context encoder's tokens. :func:`jepa_loss` is the one place
where the terms of the objective are combined.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_tjepa.model.encoder import TabularEncoder
from sklearn_tjepa.model.masks import place_by_feature

__all__ = [
    "TARGET_NORMS",
    "target_tokens",
    "prediction_loss",
    "hide_inputs",
    "variance_covariance_loss",
    "jepa_loss",
]

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
    ``"none"`` leaves them as they are. The tokens are normalised in float32, also under bf16
    autocast.

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
    features = target_encoder(x_num, x_cat)[:, target_encoder.n_cls_tokens :].float()
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


def hide_inputs(
    x_num: torch.Tensor, x_cat: torch.Tensor, share: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mark a random ``share`` of the values as missing: NaN for numbers, code 0 for categories.

    Pretraining shows the result to the student only, so the tokenizer's missing-number vectors
    and the categories' missing/unknown rows are trained even when the data has no missing
    values (the target encoder receives them through the moving average).

    Parameters
    ----------
    x_num : Tensor
        Scaled numerical values, NaN where missing.
    x_cat : LongTensor
        Category codes, 0 for missing/unknown.
    share : float
        Probability that each value is hidden, in ``[0, 1)``.
    generator : torch.Generator
        Generator on the batch's device.

    Returns
    -------
    x_num, x_cat : Tensor
        Copies with the hidden values replaced.

    Shape
    -----
    - x_num: ``(B, n_numerical)``, x_cat: ``(B, n_categorical)`` (both unchanged)
    """
    hide_num = torch.rand(x_num.shape, generator=generator, device=x_num.device) < share
    hide_cat = torch.rand(x_cat.shape, generator=generator, device=x_cat.device) < share
    return x_num.masked_fill(hide_num, float("nan")), x_cat.masked_fill(hide_cat, 0)


def variance_covariance_loss(
    encoded: torch.Tensor, context: torch.Tensor, n_features: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """VICReg's variance and covariance terms, per token position, on the context encoder's output.

    Each CLS token and each feature's token (gathered by feature index, over the rows whose
    context shows that feature) is one position. Per position, the variance term is the mean
    over dimensions of ``relu(1 - std)`` across rows, and the covariance term the sum of the
    squared off-diagonal covariances divided by ``d_model`` (Bardes et al., 2022); both are
    averaged over the positions with at least two rows.

    Parameters
    ----------
    encoded : Tensor
        Context encoder output: CLS tokens then the context tokens of each view.
    context : LongTensor
        Context feature indices.
    n_features : int
        Number of feature tokens ``D``.

    Returns
    -------
    variance, covariance : Tensor
        The two scalar terms, in float32.

    Shape
    -----
    - encoded: ``(V * B, n_cls + n_ctx, d_model)``
    - context: ``(V, B, n_ctx)``
    """
    rows, length, width = encoded.shape
    n_cls = length - context.shape[2]
    encoded = encoded.float()
    slots, visible = place_by_feature(encoded[:, n_cls:], context.reshape(rows, -1), n_features)
    slots = torch.cat([encoded[:, :n_cls], slots], dim=1)
    visible = torch.cat([visible.new_ones(rows, n_cls), visible], dim=1)
    count = visible.sum(dim=0)
    used = count >= 2
    mean = slots.sum(dim=0) / count.clamp(min=1).unsqueeze(-1)
    centered = (slots - mean) * visible.unsqueeze(-1)
    covariance = torch.einsum("rpi,rpj->pij", centered, centered) / (count - 1).clamp(min=1).view(-1, 1, 1)
    variance = torch.diagonal(covariance, dim1=1, dim2=2)
    variance_term = F.relu(1.0 - torch.sqrt(variance + 1e-4)).mean(dim=1)
    off_diagonal = covariance.pow(2).sum(dim=(1, 2)) - variance.pow(2).sum(dim=1)
    return variance_term[used].mean(), (off_diagonal / width)[used].mean()


def jepa_loss(
    student: nn.Module,
    target_encoder: TabularEncoder,
    x_num: torch.Tensor,
    x_cat: torch.Tensor,
    context: torch.Tensor,
    targets: torch.Tensor,
    *,
    target_norm: str,
    missing_share: float = 0.0,
    missing_generator: torch.Generator | None = None,
    variance_weight: float = 0.0,
    covariance_weight: float = 0.0,
) -> torch.Tensor:
    """The training objective of one batch under given masks.

    The student (context encoder and predictor, :class:`~sklearn_tjepa.model.JEPAStudent`)
    predicts the target encoder's normalised tokens at the target positions from the context
    (:func:`prediction_loss`). The targets always come from the complete rows; with
    ``missing_share > 0`` the student sees the rows with a random share of values hidden as
    missing (:func:`hide_inputs`). Optional terms, each with its weight: VICReg's variance and
    covariance terms on the context encoder's tokens (:func:`variance_covariance_loss`).

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
    missing_share : float, default=0.0
        Share of the student's input values hidden as missing.
    missing_generator : torch.Generator or None, default=None
        Generator on the batch's device for the hidden values; needed when ``missing_share > 0``.
    variance_weight, covariance_weight : float, default=0.0
        Weights of the variance and covariance terms.

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
    n_views = context.shape[0]
    expected = target_tokens(target_encoder, x_num, x_cat, targets, n_views=n_views, norm=target_norm)
    seen_num, seen_cat = x_num, x_cat
    if missing_share > 0:
        seen_num, seen_cat = hide_inputs(x_num, x_cat, missing_share, missing_generator)
    output = student(seen_num, seen_cat, context, targets)
    loss = prediction_loss(output.predicted, expected)
    if variance_weight > 0 or covariance_weight > 0:
        variance, covariance = variance_covariance_loss(output.encoded, context, target_encoder.tokenizer.n_features)
        loss = loss + variance_weight * variance + covariance_weight * covariance
    return loss
