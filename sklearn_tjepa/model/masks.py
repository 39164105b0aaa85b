"""Context and target masks over feature tokens, sampled per batch as index tensors."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["MaskSampler", "mask_count_bounds"]


def mask_count_bounds(n_features: int, min_share: float, max_share: float) -> tuple[int, int]:
    """Return the inclusive range of feature counts for a share range.

    Parameters
    ----------
    n_features : int
        Number of feature tokens ``D`` (the CLS token excluded).
    min_share, max_share : float
        Shares of ``D`` in ``[0, 1]``, ``min_share <= max_share``.

    Returns
    -------
    low, high : int
        ``round(D * min_share)`` and ``round(D * max_share)``, each at least 1.
    """
    low = max(1, round(n_features * min_share))
    high = max(low, round(n_features * max_share))
    return low, high


@dataclass(frozen=True)
class MaskSampler:
    """Sample disjoint context sets and target sets of feature indices for a batch.

    For each batch one context size ``n_ctx`` and one target size ``n_trgt`` are drawn (so every
    tensor is rectangular), resampled until ``num_encs * n_ctx + n_trgt <= n_features``. Each row
    gets a random permutation of its features (argsort of uniform noise): its first
    ``num_encs * n_ctx`` entries are the ``num_encs`` disjoint context sets, and each of the
    ``num_preds`` target sets is a random draw from the rest. Targets never overlap the context;
    target sets may overlap each other. The CLS token is not a feature and is never drawn.

    Parameters
    ----------
    n_features : int
        Number of feature tokens ``D``.
    min_ctx_share, max_ctx_share, min_trgt_share, max_trgt_share : float
        Share ranges of the context and target sizes.
    num_preds : int
        Number of target sets per row.
    num_encs : int
        Number of context sets (context encoder views) per row.
    """

    n_features: int
    min_ctx_share: float
    max_ctx_share: float
    min_trgt_share: float
    max_trgt_share: float
    num_preds: int = 1
    num_encs: int = 1

    def __post_init__(self):
        if self.n_features < 2:
            raise ValueError(
                f"T-JEPA needs at least 2 features to split into context and targets, "
                f"got n_features={self.n_features}"
            )
        ctx_low, _ = self.context_bounds
        trgt_low, _ = self.target_bounds
        if self.num_encs * ctx_low + trgt_low > self.n_features:
            raise ValueError(
                f"The mask shares cannot fit {self.n_features} features: the smallest context "
                f"({ctx_low} features) times mask_num_encs={self.num_encs} plus the smallest target "
                f"({trgt_low} features) exceeds {self.n_features}; lower mask_min_ctx_share, "
                f"mask_min_trgt_share or mask_num_encs."
            )

    @property
    def context_bounds(self) -> tuple[int, int]:
        """Inclusive range of the context size ``n_ctx``."""
        return mask_count_bounds(self.n_features, self.min_ctx_share, self.max_ctx_share)

    @property
    def target_bounds(self) -> tuple[int, int]:
        """Inclusive range of the target size ``n_trgt``."""
        return mask_count_bounds(self.n_features, self.min_trgt_share, self.max_trgt_share)

    @property
    def max_context_size(self) -> int:
        """The largest context size a batch can draw."""
        ctx_low, ctx_high = self.context_bounds
        trgt_low, _ = self.target_bounds
        return min(ctx_high, (self.n_features - trgt_low) // self.num_encs)

    def sample_sizes(self, generator: torch.Generator) -> tuple[int, int]:
        """Draw ``(n_ctx, n_trgt)`` for one batch with a CPU generator."""
        ctx_low, ctx_high = self.context_bounds
        trgt_low, trgt_high = self.target_bounds
        while True:
            n_ctx, n_trgt = (
                int(torch.randint(low, high + 1, (1,), generator=generator))
                for low, high in ((ctx_low, ctx_high), (trgt_low, trgt_high))
            )
            if self.num_encs * n_ctx + n_trgt <= self.n_features:
                return n_ctx, n_trgt

    def sample(
        self,
        batch_size: int,
        *,
        size_generator: torch.Generator,
        index_generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample the masks of one batch.

        Parameters
        ----------
        batch_size : int
            Number of rows ``B``.
        size_generator : torch.Generator
            CPU generator for the two set sizes.
        index_generator : torch.Generator
            Generator on the training device for the per-row permutations; the masks are
            created on its device.

        Returns
        -------
        context : LongTensor
            Context feature indices.
        targets : LongTensor
            Target feature indices.

        Shape
        -----
        - context: ``(num_encs, B, n_ctx)``
        - targets: ``(num_preds, B, n_trgt)``
        """
        n_ctx, n_trgt = self.sample_sizes(size_generator)
        device = index_generator.device
        noise = torch.rand(batch_size, self.n_features, generator=index_generator, device=device)
        order = noise.argsort(dim=1)
        n_visible = self.num_encs * n_ctx
        context = order[:, :n_visible].reshape(batch_size, self.num_encs, n_ctx).permute(1, 0, 2)
        rest = order[:, n_visible:]
        pick_noise = torch.rand(
            self.num_preds, batch_size, rest.shape[1], generator=index_generator, device=device
        )
        picks = pick_noise.argsort(dim=2)[:, :, :n_trgt]
        targets = torch.gather(rest.unsqueeze(0).expand(self.num_preds, -1, -1), 2, picks)
        return context.contiguous(), targets
