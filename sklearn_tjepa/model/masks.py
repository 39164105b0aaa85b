"""Context and target masks over feature tokens, sampled per batch as index tensors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

__all__ = ["MaskSampler", "mask_count_bounds", "place_by_feature"]


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


def place_by_feature(tokens: torch.Tensor, index: torch.Tensor, n_features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Put each row's tokens in the slot of their feature index, zeros in the other slots.

    The masks list a row's context features in random order; a module that reads tokens by
    position (a flattening MLP, per-feature statistics) must see feature ``j`` in slot ``j``.

    Parameters
    ----------
    tokens : Tensor
        Tokens of the listed features, one row per (view, row) pair.
    index : LongTensor
        Feature index of each token, distinct within a row.
    n_features : int
        Number of feature slots ``D``.

    Returns
    -------
    slots : Tensor
        ``slots[r, index[r, k]] = tokens[r, k]``; zero where row ``r`` lists no token.
    visible : Tensor
        1.0 where a slot holds a token, 0.0 elsewhere (same dtype as ``tokens``).

    Shape
    -----
    - tokens: ``(R, n, d)``, index: ``(R, n)``
    - slots: ``(R, D, d)``, visible: ``(R, D)``
    """
    rows, _, width = tokens.shape
    slots = tokens.new_zeros(rows, n_features, width).scatter(1, index.unsqueeze(-1).expand(-1, -1, width), tokens)
    visible = tokens.new_zeros(rows, n_features).scatter(1, index, 1.0)
    return slots, visible


@dataclass(frozen=True)
class MaskSampler:
    """Sample disjoint context sets and target sets of feature indices for a batch.

    For each batch one context size ``n_ctx`` and one target size ``n_trgt`` are drawn (so every
    tensor is rectangular), resampled until ``n_context_sets * n_ctx + n_trgt <= n_features``. Each row
    gets a random permutation of its features (argsort of uniform noise): its first
    ``n_context_sets * n_ctx`` entries are the ``n_context_sets`` disjoint context sets, and each of the
    ``n_target_sets`` target sets is a random draw from the rest. Targets never overlap the context;
    target sets may overlap each other. The CLS token is not a feature and is never drawn.

    Build it with :meth:`from_config` from the estimator's parameters (or a
    :class:`~sklearn_tjepa.training.TrainConfig`); the sizes are counted by
    :func:`mask_count_bounds`.

    Parameters
    ----------
    n_features : int
        Number of feature tokens ``D``.
    mask_min_context_share, mask_max_context_share : float
        Share range of the context size.
    mask_min_target_share, mask_max_target_share : float
        Share range of the target size.
    n_target_sets : int
        Number of target sets per row.
    n_context_sets : int
        Number of context sets (context encoder views) per row.
    """

    n_features: int
    mask_min_context_share: float
    mask_max_context_share: float
    mask_min_target_share: float
    mask_max_target_share: float
    n_target_sets: int = 1
    n_context_sets: int = 1

    @classmethod
    def from_config(cls, n_features: int, config) -> "MaskSampler":
        """The sampler for ``n_features`` features under the mask parameters of ``config``.

        Parameters
        ----------
        n_features : int
            Number of feature tokens ``D``.
        config : object
            Anything with the mask parameters of :class:`~sklearn_tjepa.TJEPATransformer` as
            attributes, named like this class's fields (the estimator itself, or a
            ``TrainConfig``).

        Raises
        ------
        ValueError
            When ``n_features < 2`` or the smallest shares cannot fit ``n_features`` features.
        """
        names = [field.name for field in dataclasses.fields(cls) if field.name != "n_features"]
        return cls(n_features=n_features, **{name: getattr(config, name) for name in names})

    def __post_init__(self):
        if self.n_features < 2:
            raise ValueError(
                f"T-JEPA needs at least 2 features to split into context and targets, "
                f"got n_features={self.n_features}"
            )
        ctx_low, _ = self.context_bounds
        trgt_low, _ = self.target_bounds
        if self.n_context_sets * ctx_low + trgt_low > self.n_features:
            raise ValueError(
                f"The mask shares cannot fit {self.n_features} features: the smallest context "
                f"({ctx_low} features) times n_context_sets={self.n_context_sets} plus the smallest target "
                f"({trgt_low} features) exceeds {self.n_features}; lower mask_min_context_share, "
                f"mask_min_target_share or n_context_sets."
            )

    @property
    def context_bounds(self) -> tuple[int, int]:
        """Inclusive range of the context size ``n_ctx``."""
        return mask_count_bounds(self.n_features, self.mask_min_context_share, self.mask_max_context_share)

    @property
    def target_bounds(self) -> tuple[int, int]:
        """Inclusive range of the target size ``n_trgt``."""
        return mask_count_bounds(self.n_features, self.mask_min_target_share, self.mask_max_target_share)

    def sample_sizes(self, generator: torch.Generator) -> tuple[int, int]:
        """Draw ``(n_ctx, n_trgt)`` for one batch with a CPU generator."""
        ctx_low, ctx_high = self.context_bounds
        trgt_low, trgt_high = self.target_bounds
        while True:
            n_ctx, n_trgt = (
                int(torch.randint(low, high + 1, (1,), generator=generator))
                for low, high in ((ctx_low, ctx_high), (trgt_low, trgt_high))
            )
            if self.n_context_sets * n_ctx + n_trgt <= self.n_features:
                return n_ctx, n_trgt

    def sample(
        self,
        batch_size: int,
        *,
        size_generator: torch.Generator,
        index_generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample the sizes and then the masks of one batch.

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
        context, targets : LongTensor
            See :meth:`sample_with_sizes`.
        """
        n_ctx, n_trgt = self.sample_sizes(size_generator)
        return self.sample_with_sizes(batch_size, n_ctx, n_trgt, index_generator=index_generator)

    def sample_with_sizes(
        self, batch_size: int, n_ctx: int, n_trgt: int, *, index_generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample the masks of one batch for given set sizes.

        Parameters
        ----------
        batch_size : int
            Number of rows ``B``.
        n_ctx, n_trgt : int
            Features per context set and per target set, with
            ``n_context_sets * n_ctx + n_trgt <= n_features``.
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
        - context: ``(n_context_sets, B, n_ctx)``
        - targets: ``(n_target_sets, B, n_trgt)``
        """
        device = index_generator.device
        noise = torch.rand(batch_size, self.n_features, generator=index_generator, device=device)
        order = noise.argsort(dim=1)
        n_visible = self.n_context_sets * n_ctx
        context = order[:, :n_visible].reshape(batch_size, self.n_context_sets, n_ctx).permute(1, 0, 2)
        rest = order[:, n_visible:]
        pick_noise = torch.rand(
            self.n_target_sets, batch_size, rest.shape[1], generator=index_generator, device=device
        )
        picks = pick_noise.argsort(dim=2)[:, :, :n_trgt]
        targets = torch.gather(rest.unsqueeze(0).expand(self.n_target_sets, -1, -1), 2, picks)
        return context.contiguous(), targets
