"""Tests for sklearn_tjepa.model: tokenizer, encoder, predictors and the JEPA pair (the encoder
blocks and the student's loss and gradients also against plain formulas, in fp32 and under bf16
autocast)."""

import copy

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_spec
from plain_formulas import BF16, FP32, grads, reference_block
from sklearn_tjepa.baselines.features import feature_tokens
from sklearn_tjepa.model import (
    FeatureTokenizer,
    MaskSampler,
    MLPPredictor,
    ModelSpec,
    build_encoder,
    build_student,
    ema_update,
    jepa_loss,
    make_target_encoder,
    sinusoidal_positions,
    target_tokens,
)
from sklearn_tjepa.model.encoder import TransformerBlock, TransformerStack
from sklearn_tjepa.training.optim import make_optimizer


def _batch(batch=6, n_num=3, cardinalities=(4, 3), seed=0):
    generator = torch.Generator().manual_seed(seed)
    x_num = torch.randn(batch, n_num, generator=generator)
    x_cat = torch.stack(
        [torch.randint(1, card, (batch,), generator=generator) for card in cardinalities], dim=1
    ) if cardinalities else torch.zeros(batch, 0, dtype=torch.long)
    return x_num, x_cat


def _tokenizer(numerical, categorical, cardinalities, **kwargs):
    torch.manual_seed(0)
    return FeatureTokenizer(
        numerical_positions=numerical,
        categorical_positions=categorical,
        cardinalities=cardinalities,
        d_model=8,
        **kwargs,
    )


# ---------------------------------------------------------------- tokenizer


def test_tokens_keep_input_column_order():
    """Token ``1 + p`` is the embedding of input column ``p``, whatever the column's type."""
    tok = _tokenizer((0, 2, 3), (1, 4), (4, 3), feature_index_embedding=False, feature_type_embedding=False)
    x_num, x_cat = _batch()
    with torch.no_grad():
        features = (tok(x_num, x_cat) - tok.positions)[:, 1:]
        for k, position in enumerate((0, 2, 3)):
            expected = x_num[:, k : k + 1] * tok.numerical.weight[k] + tok.numerical.bias[k]
            torch.testing.assert_close(features[:, position], expected)
        for m, position in enumerate((1, 4)):
            expected = tok.categorical.embeddings[m].weight[x_cat[:, m]] + tok.categorical.bias[m]
            torch.testing.assert_close(features[:, position], expected)


@pytest.mark.parametrize("type_embedding", [False, True])
def test_permuted_table_gives_permuted_tokens(type_embedding):
    """Table A has columns [n0, c0, n1]; table B is its permutation [c0, n0, n1] with the same
    values and the same weights. The feature tokens of B are those of A, permuted; with the type
    embedding this only holds when types are labelled by input position (the reference labelled
    the first ``n_num`` tokens numerical after reordering numerical before categorical)."""
    tok_a = _tokenizer((0, 2), (1,), (4,), feature_index_embedding=False, feature_type_embedding=type_embedding)
    tok_b = _tokenizer((1, 2), (0,), (4,), feature_index_embedding=False, feature_type_embedding=type_embedding)
    tok_b.load_state_dict(tok_a.state_dict())
    assert tok_a.feature_types.tolist() == [0, 1, 0]
    assert tok_b.feature_types.tolist() == [1, 0, 0]
    x_num, x_cat = _batch(n_num=2, cardinalities=(4,))
    with torch.no_grad():
        a = (tok_a(x_num, x_cat) - tok_a.positions)[:, 1:]
        b = (tok_b(x_num, x_cat) - tok_b.positions)[:, 1:]
    torch.testing.assert_close(b, a[:, [1, 0, 2]])


def test_missing_numerical_value_uses_missing_vector():
    tok = _tokenizer((0, 1), (), (), feature_index_embedding=False, feature_type_embedding=False)
    x_num = torch.tensor([[0.5, float("nan")], [float("nan"), 0.0], [0.0, 0.0]])
    x_cat = torch.zeros(3, 0, dtype=torch.long)
    with torch.no_grad():
        tokens = tok(x_num, x_cat)
        features = (tokens - tok.positions)[:, 1:]
    assert torch.isfinite(tokens).all()
    torch.testing.assert_close(features[0, 1], tok.numerical_missing[1])
    torch.testing.assert_close(features[1, 0], tok.numerical_missing[0])
    # a missing value is not the same as a zero
    assert not torch.allclose(features[1, 0], features[2, 0])
    # the observed value of row 0 is unaffected by the NaN beside it
    torch.testing.assert_close(features[0, 0], 0.5 * tok.numerical.weight[0] + tok.numerical.bias[0])


def test_baseline_tokens_come_from_the_same_tokenizer():
    """FT-Transformer and AutoInt tokens are FeatureTokenizer's: CLS first, numerical then
    categorical columns, no positions; ``bias=False`` (AutoInt) has no bias anywhere."""
    tok = feature_tokens(n_num=2, cat_cardinalities=[3], d_token=4, bias=False, cls=True)
    assert isinstance(tok, FeatureTokenizer) and tok.n_tokens == 4 and tok.positions is None
    assert not any("bias" in name for name, _ in tok.named_parameters())
    with torch.no_grad():
        out = tok(torch.tensor([[0.5, float("nan")]]), torch.tensor([[2]]))
        torch.testing.assert_close(out[0, 0], tok.cls[0])
        torch.testing.assert_close(out[0, 1], 0.5 * tok.numerical.weight[0])
        torch.testing.assert_close(out[0, 2], tok.numerical_missing[1])
        torch.testing.assert_close(out[0, 3], tok.categorical.embeddings[0].weight[2])
    assert feature_tokens(n_num=2, cat_cardinalities=[], d_token=4).n_tokens == 2


def test_missing_value_in_encoder_gives_finite_output():
    encoder = build_encoder(tiny_spec())
    x_num, x_cat = _batch()
    x_num[0, :] = float("nan")
    x_num[3, 1] = float("nan")
    with torch.no_grad():
        out = encoder(x_num, x_cat)
    assert torch.isfinite(out).all()


def test_category_code_zero_selects_reserved_row():
    tok = _tokenizer((0,), (1, 2), (4, 3), feature_index_embedding=False, feature_type_embedding=False)
    x_num = torch.zeros(2, 1)
    x_cat = torch.tensor([[0, 0], [2, 1]])
    with torch.no_grad():
        features = (tok(x_num, x_cat) - tok.positions)[:, 1:]
    # column 1 is categorical feature 0, column 2 is feature 1
    table = [embedding.weight for embedding in tok.categorical.embeddings]
    torch.testing.assert_close(features[0, 1], table[0][0] + tok.categorical.bias[0])
    torch.testing.assert_close(features[0, 2], table[1][0] + tok.categorical.bias[1])
    torch.testing.assert_close(features[1, 1], table[0][2] + tok.categorical.bias[0])
    torch.testing.assert_close(features[1, 2], table[1][1] + tok.categorical.bias[1])
    assert not torch.allclose(features[0, 1], features[1, 1])


def test_tokenizer_shape_and_cls_first():
    tok = _tokenizer((0, 2), (1,), (4,), n_cls_tokens=2)
    x_num, x_cat = _batch(n_num=2, cardinalities=(4,))
    with torch.no_grad():
        tokens = tok(x_num, x_cat)
    assert tokens.shape == (6, 2 + 3, 8)
    torch.testing.assert_close(tokens[:, :2], (tok.cls + tok.positions[:2]).expand(6, -1, -1))


def test_sinusoidal_positions():
    table = sinusoidal_positions(5, 8)
    assert table.shape == (5, 8)
    torch.testing.assert_close(table[0, 0::2], torch.zeros(4))
    torch.testing.assert_close(table[0, 1::2], torch.ones(4))
    assert torch.allclose(table[3, 0], torch.sin(torch.tensor(3.0)))  # frequency 1 at index 0
    # base 100 (the reference's): second frequency is 100 ** (-2 / 8)
    assert torch.allclose(table[1, 2], torch.sin(torch.tensor(100.0 ** (-2 / 8))))


def test_tokenizer_rejects_wrong_cardinalities():
    with pytest.raises(ValueError, match="cardinalities"):
        _tokenizer((0,), (1, 2), (4,))


# ---------------------------------------------------------------- encoder


def test_encoder_with_context_sees_cls_and_context_tokens():
    """With zero blocks the encoder is tokenizer + final LayerNorm: the context view must be
    exactly CLS followed by the selected feature tokens (feature index j -> token 1 + j)."""
    encoder = build_encoder(tiny_spec(n_layers=0))
    x_num, x_cat = _batch()
    context = torch.tensor([[[0, 4]] * 6, [[3, 1]] * 6])  # (V=2, B=6, n_ctx=2)
    with torch.no_grad():
        tokens = encoder.tokenizer(x_num, x_cat)
        out = encoder(x_num, x_cat, context)
        norm = encoder.transformer.norm
    assert out.shape == (2 * 6, 1 + 2, 8)
    torch.testing.assert_close(out[:6], norm(tokens[:, [0, 1, 5]]))
    torch.testing.assert_close(out[6:], norm(tokens[:, [0, 4, 2]]))


def test_encoder_rows_are_independent():
    encoder = build_encoder(tiny_spec()).eval()
    x_num, x_cat = _batch(batch=8)
    with torch.no_grad():
        full = encoder(x_num, x_cat)
        half = encoder(x_num[:3], x_cat[:3])
    torch.testing.assert_close(full[:3], half)



def test_block_matches_the_plain_formula_fp32():
    torch.manual_seed(0)
    block = TransformerBlock(d_model=8, n_heads=2, ffn_dim=16, dropout=0.0, activation="gelu", norm="pre")
    x = torch.randn(5, 7, 8, requires_grad=True)
    block(x).square().sum().backward()
    got = grads(block, x)
    block.zero_grad()
    x.grad = None
    reference_block(block, x).square().sum().backward()
    for a, b in zip(got, grads(block, x)):
        torch.testing.assert_close(a, b, **FP32)


def test_block_state_dict_keys_are_unchanged():
    # pickled models from before the fast path load: same parameter names as nn.Dropout-based blocks
    block = TransformerBlock(d_model=8, n_heads=2, ffn_dim=16, dropout=0.1, activation="gelu", norm="pre")
    assert sorted(block.state_dict()) == sorted(
        f"{module}.{name}"
        for module in ("qkv", "out", "norm_attention", "norm_ffn", "ffn.0", "ffn.3")
        for name in ("weight", "bias")
    )


# ---------------------------------------------------------------- predictors


@pytest.mark.parametrize("predictor", ["transformer", "mlp"])
@pytest.mark.parametrize("n_context_sets,n_target_sets,n_cls", [(1, 1, 1), (2, 3, 1), (3, 2, 2)])
def test_predictor_output_shape(predictor, n_context_sets, n_target_sets, n_cls):
    """Both predictors return ``(P * V * B, n_trgt, d_model)``, also for several context views
    (the reference crashed for ``n_context_sets > 1`` and for its MLP predictor)."""
    D = 8
    sampler = MaskSampler(
        n_features=D, mask_min_context_share=0.2, mask_max_context_share=0.3, mask_min_target_share=0.2, mask_max_target_share=0.3,
        n_target_sets=n_target_sets, n_context_sets=n_context_sets,
    )
    spec = tiny_spec(
        numerical=tuple(range(0, D, 2)), categorical=tuple(range(1, D, 2)), cardinalities=(3, 3, 3, 3),
        predictor=predictor, n_cls_tokens=n_cls,
    )
    torch.manual_seed(0)
    student = build_student(spec)
    target = make_target_encoder(student.encoder)
    x_num, x_cat = _batch(batch=5, n_num=4, cardinalities=(3, 3, 3, 3))
    size_gen, index_gen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    context, targets = sampler.sample(5, size_generator=size_gen, index_generator=index_gen)
    n_trgt = targets.shape[2]
    predicted = student(x_num, x_cat, context, targets).predicted
    expected = target_tokens(target, x_num, x_cat, targets, n_views=n_context_sets, norm="layer")
    assert predicted.shape == expected.shape == (n_target_sets * n_context_sets * 5, n_trgt, 8)
    loss = F.mse_loss(predicted, expected)
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in student.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_mlp_predictor_varying_context_size():
    torch.manual_seed(0)
    D, max_ctx = 6, 4
    predictor = MLPPredictor(
        d_model=8, n_features=D, n_cls_tokens=1, hidden_dim=8, dropout=0.0, activation="gelu"
    )
    for n_ctx in range(1, max_ctx + 1):
        for n_views in (1, 2):
            encoded = torch.randn(n_views * 3, 1 + n_ctx, 8)
            context = torch.zeros(n_views, 3, n_ctx, dtype=torch.long)
            targets = torch.tensor([[[4, 5]] * 3, [[5, 0]] * 3])  # (P=2, B=3, n_trgt=2)
            out = predictor(encoded, context, targets)
            assert out.shape == (2 * n_views * 3, 2, 8)
            assert torch.isfinite(out).all()


def test_mlp_predictor_is_one_mlp_per_feature():
    """Target slot ``t`` of a row holds the output of feature ``targets[t]``'s MLP: the same
    feature predicted in two slots gives the same vector."""
    torch.manual_seed(0)
    predictor = MLPPredictor(
        d_model=8, n_features=5, n_cls_tokens=1, hidden_dim=8, dropout=0.0, activation="gelu"
    )
    encoded = torch.randn(2, 3, 8)
    context = torch.zeros(1, 2, 2, dtype=torch.long)
    targets = torch.tensor([[[3, 4], [4, 1]], [[4, 3], [1, 4]]])  # (P=2, B=2, 2)
    with torch.no_grad():
        out = predictor(encoded, context, targets)
    # rows: (p=0,b=0), (p=0,b=1), (p=1,b=0), (p=1,b=1)
    torch.testing.assert_close(out[0, 0], out[2, 1])  # feature 3 of row 0
    torch.testing.assert_close(out[0, 1], out[2, 0])  # feature 4 of row 0
    torch.testing.assert_close(out[1, 0], out[3, 1])  # feature 4 of row 1
    assert not torch.allclose(out[0, 0], out[0, 1])


def test_predictors_order_matches_target_tokens():
    """Predictor rows and target rows are paired in the same (target set, view, row) order."""
    torch.manual_seed(0)
    spec = tiny_spec(n_layers=0)
    target = make_target_encoder(build_encoder(spec))
    x_num, x_cat = _batch(batch=3)
    targets = torch.tensor([[[0], [1], [2]], [[3], [4], [0]]])  # (P=2, B=3, 1)
    out = target_tokens(target, x_num, x_cat, targets, n_views=2, norm="none")
    with torch.no_grad():
        hidden = target(x_num, x_cat)[:, 1:]
    assert out.shape == (2 * 2 * 3, 1, 8)
    for p in range(2):
        for v in range(2):
            for b in range(3):
                torch.testing.assert_close(out[(p * 2 + v) * 3 + b, 0], hidden[b, targets[p, b, 0]])


# ---------------------------------------------------------------- JEPA pair


def test_target_tokens_in_eval_mode_without_grad():
    torch.manual_seed(0)
    student = build_student(tiny_spec(dropout=0.5))
    student.train()
    target = make_target_encoder(student.encoder)
    assert not target.training and not any(module.training for module in target.modules())
    x_num, x_cat = _batch()
    targets = torch.tensor([[[0, 2]] * 6])
    first = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="none")
    second = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="none")
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not first.requires_grad and first.grad_fn is None
    # the student (training mode, dropout 0.5) is noisy: the equality above is not trivial
    with torch.no_grad():
        assert not torch.equal(student.encoder(x_num, x_cat), student.encoder(x_num, x_cat))


def test_target_tokens_layer_norm():
    target = make_target_encoder(build_encoder(tiny_spec()))
    x_num, x_cat = _batch()
    targets = torch.tensor([[[0, 1, 2]] * 6])
    normed = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="layer")
    torch.testing.assert_close(normed.mean(-1), torch.zeros(6, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(normed.var(-1, unbiased=False), torch.ones(6, 3), atol=1e-3, rtol=0)


def test_target_tokens_batch_norm_standardises_each_feature_across_rows():
    target = make_target_encoder(build_encoder(tiny_spec()))
    x_num, x_cat = _batch()
    targets = torch.tensor([[[0, 1, 2]] * 6])
    normed = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="batch")
    torch.testing.assert_close(normed.mean(0), torch.zeros(3, normed.shape[-1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(normed.std(0), torch.ones(3, normed.shape[-1]), atol=1e-3, rtol=0)


def test_ema_update_formula():
    torch.manual_seed(0)
    source = build_encoder(tiny_spec())
    target = make_target_encoder(build_encoder(tiny_spec()))
    before = copy.deepcopy(target.state_dict())
    momentum = 0.9
    ema_update(target, source, momentum)
    for (name, new), (_, src) in zip(target.named_parameters(), source.named_parameters()):
        expected = momentum * before[name] + (1 - momentum) * src.detach()
        torch.testing.assert_close(new, expected, rtol=1e-6, atol=1e-7)
    # momentum 1 leaves the target alone, 0 copies the source
    ema_update(target, source, 1.0)
    frozen = copy.deepcopy(target.state_dict())
    assert all(torch.equal(frozen[k], v) for k, v in target.state_dict().items())
    ema_update(target, source, 0.0)
    for new, src in zip(target.parameters(), source.parameters()):
        torch.testing.assert_close(new, src.detach())


def test_target_encoder_frozen_and_not_in_optimizer():
    torch.manual_seed(0)
    student = build_student(tiny_spec())
    target = make_target_encoder(student.encoder)
    optimizer = make_optimizer(student)
    assert all(not p.requires_grad for p in target.parameters())
    optimized = [id(p) for group in optimizer.param_groups for p in group["params"]]
    assert len(optimized) == len(set(optimized)) == len(list(student.parameters()))
    assert set(optimized) == {id(p) for p in student.parameters()}
    assert not {id(p) for p in target.parameters()} & set(optimized)
    # the target is a copy, not a view of the student's weights
    assert all(t.data_ptr() != s.data_ptr() for t, s in zip(target.parameters(), student.encoder.parameters()))


@pytest.mark.parametrize("embedding", ["periodic", "piecewise_linear"])
def test_richer_numerical_embeddings(embedding):
    bins = ((-3.0, -1.0, 0.0, 1.0, 3.0),) * 3 if embedding == "piecewise_linear" else None
    encoder = build_encoder(tiny_spec(numerical_embedding=embedding, numerical_bin_edges=bins))
    x_num, x_cat = _batch()
    x_num[0, 0] = float("nan")
    with torch.no_grad():
        out = encoder(x_num, x_cat)
    assert out.shape == (6, 1 + 5, 8) and torch.isfinite(out).all()


@pytest.mark.parametrize(
    "numerical, categorical, cardinalities",
    [((0, 1, 2), (), ()), ((), (0, 1), (4, 3)), ((0, 2, 3), (1, 4), (4, 3))],
    ids=["numerical-only", "categorical-only", "mixed"],
)
@pytest.mark.parametrize("extra_terms", [False, True], ids=["prediction-only", "every-term"])
def test_every_student_parameter_gets_a_gradient(numerical, categorical, cardinalities, extra_terms):
    """DistributedDataParallel (without find_unused_parameters) needs every parameter in every step:
    a table without categorical (or numerical) columns must not create unused embedding tables,
    with or without the optional terms of the objective."""
    spec = tiny_spec(numerical=numerical, categorical=categorical, cardinalities=cardinalities)
    torch.manual_seed(0)
    student = build_student(spec)
    target = make_target_encoder(student.encoder)
    x_num, x_cat = _batch(n_num=len(numerical), cardinalities=cardinalities)
    sampler = MaskSampler(n_features=spec.n_features, mask_min_context_share=0.3, mask_max_context_share=0.4, mask_min_target_share=0.3, mask_max_target_share=0.4)
    context, targets = sampler.sample(6, size_generator=torch.Generator().manual_seed(0), index_generator=torch.Generator().manual_seed(1))
    weights = dict(missing_share=0.2, variance_weight=1.0, covariance_weight=0.04)
    loss = jepa_loss(
        student, target, x_num, x_cat, context, targets, target_norm="batch",
        missing_generator=torch.Generator().manual_seed(2), **(weights if extra_terms else {}),
    )
    loss.backward()
    missing = [name for name, p in student.named_parameters() if p.grad is None]
    assert missing == []


def _spec(dropout=0.0):
    return ModelSpec(
        numerical_positions=(0, 1, 2, 3, 4, 5),
        categorical_positions=(),
        cardinalities=(),
        d_model=8,
        n_layers=2,
        n_heads=2,
        ffn_dim=16,
        dropout=dropout,
        activation="gelu",
        norm="pre",
        n_cls_tokens=1,
        numerical_embedding="linear",
        feature_index_embedding=True,
        feature_type_embedding=True,
        predictor="transformer",
        predictor_d_model=8,
        predictor_n_layers=2,
        predictor_n_heads=4,
        predictor_ffn_dim=16,
    )


def _masks(batch=10, n_ctx=2, n_trgt=3, n_preds=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    order = torch.rand(n_preds + 1, batch, 6, generator=generator).argsort(dim=-1)
    context = order[:1, :, :n_ctx]
    targets = order[1:, :, n_ctx : n_ctx + n_trgt]
    return context, targets


def _reference_student_loss(student, x_num, x_cat, context, targets, target_encoder):
    """The student's forward written with plain ops: repeat the context per target set, no dropout."""
    encoder, predictor = student.encoder, student.predictor
    tokens = encoder.tokenizer(x_num, x_cat)
    n_views, batch, n_ctx = context.shape
    visible = torch.stack([tokens[b, 1 + context[0, b]] for b in range(batch)])
    x = torch.cat([tokens[:, :1], visible], dim=1)
    for block in encoder.transformer.blocks:
        x = reference_block(block, x)
    x = encoder.transformer.norm(x)
    x = predictor.embed(x)
    positions = predictor.positions
    x = torch.cat([x[:, :1] + positions[:1], x[:, 1:] + positions[1 + context[0]]], dim=1)
    n_preds, _, n_trgt = targets.shape
    sequences = torch.cat(
        [torch.cat([x, predictor.mask_token + positions[1 + targets[t]]], dim=1) for t in range(n_preds)]
    )
    for block in predictor.transformer.blocks:
        sequences = reference_block(block, sequences)
    predicted = predictor.project(predictor.transformer.norm(sequences)[:, -n_trgt:])
    expected = target_tokens(target_encoder, x_num, x_cat, targets, n_views=1, norm="batch")
    return F.mse_loss(predicted, expected)


def _student_and_data(dropout=0.0):
    torch.manual_seed(0)
    student = build_student(_spec(dropout))
    target = build_student(_spec()).encoder.eval()
    target.load_state_dict(student.encoder.state_dict())
    x_num = torch.randn(10, 6, generator=torch.Generator().manual_seed(1))
    return student, target, x_num, torch.zeros(10, 0, dtype=torch.long), *_masks()


def test_student_loss_and_gradients_match_the_reference_fp32():
    student, target, x_num, x_cat, context, targets = _student_and_data()
    expected_tokens = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="batch")
    loss = F.mse_loss(student(x_num, x_cat, context, targets).predicted, expected_tokens)
    loss.backward()
    got = grads(student)
    student.zero_grad()
    reference = _reference_student_loss(student, x_num, x_cat, context, targets, target)
    reference.backward()
    torch.testing.assert_close(loss, reference, **FP32)
    for a, b in zip(got, grads(student)):
        torch.testing.assert_close(a, b, **FP32)


def test_student_loss_under_bf16_autocast_stays_close_to_fp32():
    student, target, x_num, x_cat, context, targets = _student_and_data()
    reference = _reference_student_loss(student, x_num, x_cat, context, targets, target)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected_tokens = target_tokens(target, x_num, x_cat, targets, n_views=1, norm="batch")
        predicted = student(x_num, x_cat, context, targets).predicted
    loss = F.mse_loss(predicted.float(), expected_tokens.float())
    torch.testing.assert_close(loss, reference, **BF16)


def _seeded_loss_and_grads(student, x_num, x_cat, context, targets, seed=42):
    """The loss and every gradient of one forward and backward pass from a fixed torch seed."""
    student.zero_grad()
    torch.manual_seed(seed)
    loss = student(x_num, x_cat, context, targets).predicted.square().mean()
    loss.backward()
    return [loss.detach()] + grads(student)


def test_student_with_dropout_is_deterministic_from_the_seed():
    student, target, x_num, x_cat, context, targets = _student_and_data(dropout=0.05)
    results = [_seeded_loss_and_grads(student, x_num, x_cat, context, targets) for _ in range(2)]
    for a, b in zip(*results):
        assert torch.equal(a, b)
    torch.manual_seed(43)
    assert not torch.equal(student(x_num, x_cat, context, targets).predicted.square().mean(), results[0][0])


def test_recomputed_blocks_give_the_same_loss_and_gradients():
    # activation checkpointing replays the dropout draws: identical results with and without it
    student, target, x_num, x_cat, context, targets = _student_and_data(dropout=0.05)
    results = []
    for recompute in (False, True):
        for module in student.modules():
            if isinstance(module, TransformerStack):
                module.recompute = recompute
        results.append(_seeded_loss_and_grads(student, x_num, x_cat, context, targets))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **FP32)
