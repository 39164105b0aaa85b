"""Tests for sklearn_tjepa.model.masks: property tests of MaskSampler and mask_count_bounds; every
feature is drawn and the CLS token never is."""

import sys

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sklearn_tjepa.model.masks import MaskSampler, mask_count_bounds

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _generators(seed):
    size, index = torch.Generator(), torch.Generator()
    size.manual_seed(seed)
    index.manual_seed(seed + 1)
    return size, index


@st.composite
def share_range(draw):
    low = draw(st.floats(0.0, 1.0, allow_nan=False))
    high = draw(st.floats(low, 1.0, allow_nan=False))
    return low, high


@st.composite
def sampler_settings(draw):
    n_features = draw(st.integers(2, 40))
    min_ctx, max_ctx = draw(share_range())
    min_trgt, max_trgt = draw(share_range())
    n_target_sets = draw(st.integers(1, 4))
    n_context_sets = draw(st.integers(1, 3))
    return dict(
        n_features=n_features,
        mask_min_context_share=min_ctx,
        mask_max_context_share=max_ctx,
        mask_min_target_share=min_trgt,
        mask_max_target_share=max_trgt,
        n_target_sets=n_target_sets,
        n_context_sets=n_context_sets,
    )


def _fits(kwargs):
    ctx_low, _ = mask_count_bounds(kwargs["n_features"], kwargs["mask_min_context_share"], kwargs["mask_max_context_share"])
    trgt_low, _ = mask_count_bounds(kwargs["n_features"], kwargs["mask_min_target_share"], kwargs["mask_max_target_share"])
    return kwargs["n_context_sets"] * ctx_low + trgt_low <= kwargs["n_features"]


@SETTINGS
@given(kwargs=sampler_settings(), batch=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_mask_properties(kwargs, batch, seed):
    assume(_fits(kwargs))
    sampler = MaskSampler(**kwargs)
    D, V, P = kwargs["n_features"], kwargs["n_context_sets"], kwargs["n_target_sets"]
    context, targets = sampler.sample(batch, size_generator=_generators(seed)[0], index_generator=_generators(seed)[1])
    n_ctx, n_trgt = context.shape[2], targets.shape[2]

    # shapes and dtype
    assert context.shape == (V, batch, n_ctx) and targets.shape == (P, batch, n_trgt)
    assert context.dtype == torch.long and targets.dtype == torch.long
    # sizes within the bounds, and everything fits into D features
    ctx_low, ctx_high = sampler.context_bounds
    trgt_low, trgt_high = sampler.target_bounds
    assert ctx_low <= n_ctx <= ctx_high
    assert trgt_low <= n_trgt <= trgt_high
    assert V * n_ctx + n_trgt <= D
    # only feature indices: the CLS token is never drawn
    for indices in (context, targets):
        assert int(indices.min()) >= 0 and int(indices.max()) < D

    all_context = context.permute(1, 0, 2).reshape(batch, V * n_ctx)  # (B, V * n_ctx)
    for row in range(batch):
        ctx_row = all_context[row].tolist()
        # context sets of one row are disjoint (and have no repeated entry)
        assert len(set(ctx_row)) == V * n_ctx
        for p in range(P):
            target_row = targets[p, row].tolist()
            assert len(set(target_row)) == n_trgt
            # context and targets never overlap
            assert not set(target_row) & set(ctx_row)


@SETTINGS
@given(kwargs=sampler_settings())
def test_impossible_shares_raise_at_construction(kwargs):
    if _fits(kwargs):
        MaskSampler(**kwargs)  # constructs without error
    else:
        with pytest.raises(ValueError, match="mask shares cannot fit"):
            MaskSampler(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_features=10, mask_min_context_share=0.6, mask_max_context_share=0.7, mask_min_target_share=0.5, mask_max_target_share=0.6),
        dict(n_features=10, mask_min_context_share=0.3, mask_max_context_share=0.3, mask_min_target_share=0.2, mask_max_target_share=0.2, n_context_sets=3),
        dict(n_features=3, mask_min_context_share=0.5, mask_max_context_share=0.5, mask_min_target_share=0.5, mask_max_target_share=0.5),
    ],
)
def test_impossible_shares_examples(kwargs):
    with pytest.raises(ValueError, match="n_context_sets"):
        MaskSampler(**kwargs)


def test_single_feature_raises():
    with pytest.raises(ValueError, match="n_features=1"):
        MaskSampler(n_features=1, mask_min_context_share=0.5, mask_max_context_share=0.5, mask_min_target_share=0.5, mask_max_target_share=0.5)


@SETTINGS
@given(kwargs=sampler_settings(), seed=st.integers(0, 2**31 - 1))
def test_same_seeds_same_masks(kwargs, seed):
    assume(_fits(kwargs))
    sampler = MaskSampler(**kwargs)
    first = sampler.sample(16, size_generator=_generators(seed)[0], index_generator=_generators(seed)[1])
    second = sampler.sample(16, size_generator=_generators(seed)[0], index_generator=_generators(seed)[1])
    for a, b in zip(first, second):
        assert torch.equal(a, b)


def test_different_seeds_different_masks():
    sampler = MaskSampler(n_features=12, mask_min_context_share=0.3, mask_max_context_share=0.3, mask_min_target_share=0.3, mask_max_target_share=0.3)
    first = sampler.sample(64, size_generator=_generators(0)[0], index_generator=_generators(0)[1])
    second = sampler.sample(64, size_generator=_generators(10)[0], index_generator=_generators(10)[1])
    assert not torch.equal(first[0], second[0])


def test_successive_batches_differ():
    sampler = MaskSampler(n_features=12, mask_min_context_share=0.3, mask_max_context_share=0.3, mask_min_target_share=0.3, mask_max_target_share=0.3)
    size_gen, index_gen = _generators(0)
    first = sampler.sample(64, size_generator=size_gen, index_generator=index_gen)
    second = sampler.sample(64, size_generator=size_gen, index_generator=index_gen)
    assert not torch.equal(first[0], second[0])


@SETTINGS
@given(n_features=st.integers(1, 200), shares=share_range())
def test_mask_count_bounds(n_features, shares):
    low, high = mask_count_bounds(n_features, *shares)
    assert 1 <= low <= high
    assert low == max(1, round(n_features * shares[0]))
    assert high == max(low, round(n_features * shares[1]))


def test_sizes_cover_the_whole_range():
    sampler = MaskSampler(n_features=20, mask_min_context_share=0.1, mask_max_context_share=0.3, mask_min_target_share=0.2, mask_max_target_share=0.4)
    size_gen = torch.Generator().manual_seed(0)
    drawn = {sampler.sample_sizes(size_gen) for _ in range(300)}
    assert {n_ctx for n_ctx, _ in drawn} == set(range(2, 7))
    assert {n_trgt for _, n_trgt in drawn} == set(range(4, 9))


def test_sampling_is_vectorised():
    """100k rows in one call, with a bounded number of Python calls (a per-row loop would make
    at least one call per row): counted with a profiler, not timed."""
    sampler = MaskSampler(
        n_features=9, mask_min_context_share=0.2, mask_max_context_share=0.4, mask_min_target_share=0.2, mask_max_target_share=0.4,
        n_target_sets=3, n_context_sets=2,
    )
    size_gen, index_gen = _generators(0)
    calls = 0

    def profiler(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        context, targets = sampler.sample(100_000, size_generator=size_gen, index_generator=index_gen)
    finally:
        sys.setprofile(None)
    assert context.shape[:2] == (2, 100_000) and targets.shape[:2] == (3, 100_000)
    assert calls < 1_000


@pytest.mark.parametrize("n_context_sets", [1, 2])
def test_masks_use_every_feature_and_never_cls(n_context_sets):
    """Indices address feature tokens 0..D-1 (the encoder adds the CLS offset): over many rows
    every feature, the last one included, is drawn as context and as target, and no index
    reaches D (which would be out of range, or the CLS token under an off-by-one)."""
    D = 7
    sampler = MaskSampler(
        n_features=D, mask_min_context_share=0.15, mask_max_context_share=0.3, mask_min_target_share=0.15, mask_max_target_share=0.3,
        n_target_sets=2, n_context_sets=n_context_sets,
    )
    size_gen, index_gen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    context_seen, target_seen = set(), set()
    for _ in range(20):
        context, targets = sampler.sample(64, size_generator=size_gen, index_generator=index_gen)
        context_seen |= set(context.unique().tolist())
        target_seen |= set(targets.unique().tolist())
    assert context_seen == target_seen == set(range(D))
