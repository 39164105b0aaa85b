"""Tests for sklearn_tjepa.training.memory and the estimator's ``recompute``: the activation
estimate, what "auto" resolves to, and that recomputing changes nothing in the results."""

import numpy as np
import pytest
import torch

from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.model import encoder as encoder_module
from sklearn_tjepa.training import memory
from sklearn_tjepa.training.memory import RECOMPUTE_BUDGET_BYTES, activation_bytes, recompute_budget, resolve_recompute

CPU = torch.device("cpu")

#: The paper's tuned size for jannis (54 numerical features, batch 512).
TUNED = dict(
    d_model=64, n_layers=16, n_heads=2, ffn_dim=64, predictor_d_model=16, predictor_n_layers=16,
    predictor_n_heads=4, predictor_ffn_dim=256, n_target_sets=4, batch_size=512,
)


def _spec(make, **params):
    """The fitted ModelSpec (and estimator) for ``params`` on 54 numerical features."""
    X = np.random.default_rng(0).normal(size=(8, 54))
    est = make(**params, max_epochs=0, numerical_embedding="linear").fit(X)
    return est.model_spec_, est


def test_activation_estimate_follows_the_documented_formula(make):
    spec, est = _spec(make, **TUNED)
    # 54 features: largest context round(54 * 0.368) = 20, largest target round(54 * 0.622) = 34
    encoder = 1 * 512 * (1 + 20) * 16 * (10 * 64 + 2 * 64)
    predictor = 4 * 1 * 512 * (1 + 54) * 16 * (10 * 16 + 2 * 256)
    assert activation_bytes(spec, est) == 4 * (encoder + predictor)


def test_mlp_predictor_counts_the_encoder_only(make):
    spec, est = _spec(make, **{**TUNED, "predictor": "mlp"})
    assert activation_bytes(spec, est) == 4 * 512 * 21 * 16 * (10 * 64 + 2 * 64)


def test_auto_recomputes_above_the_budget(make):
    tuned, est = _spec(make, **TUNED)
    assert activation_bytes(tuned, est) > RECOMPUTE_BUDGET_BYTES
    assert resolve_recompute("auto", tuned, est, CPU) is True
    tiny, tiny_est = _spec(make)
    assert activation_bytes(tiny, tiny_est) < RECOMPUTE_BUDGET_BYTES
    assert resolve_recompute("auto", tiny, tiny_est, CPU) is False
    assert resolve_recompute(True, tiny, tiny_est, CPU) is True
    assert resolve_recompute(False, tuned, est, CPU) is False


def test_cpu_budget():
    assert recompute_budget(CPU) == RECOMPUTE_BUDGET_BYTES == 2**30


def test_fit_resolves_and_uses_recompute(make, monkeypatch):
    calls = []
    real = encoder_module.checkpoint

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(encoder_module, "checkpoint", counting)
    X = np.random.default_rng(0).normal(size=(64, 5))
    assert make(recompute="auto").fit(X).recompute_ is False and not calls
    monkeypatch.setattr(memory, "RECOMPUTE_BUDGET_BYTES", 0)  # every model exceeds it
    assert make(recompute="auto").fit(X).recompute_ is True and calls
    assert TJEPATransformer().recompute == "auto"


def test_recompute_gives_the_same_training(make):
    X = np.random.default_rng(0).normal(size=(96, 6))
    runs = [make(recompute=value, dropout=0.05, max_epochs=3).fit(X) for value in (False, True)]
    assert [r.recompute_ for r in runs] == [False, True]
    np.testing.assert_allclose(
        [r["loss"] for r in runs[1].history_], [r["loss"] for r in runs[0].history_], rtol=1e-6
    )
    np.testing.assert_allclose(runs[1].transform(X), runs[0].transform(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "value, error",
    [("yes", ValueError), ("AUTO", ValueError), (1.5, TypeError), (None, TypeError), (2, TypeError)],
)
def test_bad_recompute_is_refused(make, value, error):
    with pytest.raises(error, match=r"recompute must be True, False or 'auto', got recompute="):
        make(recompute=value).fit(np.zeros((8, 3)))


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_, 1, 0])
def test_recompute_takes_the_bools_the_other_bool_parameters_take(make, value):
    X = np.random.default_rng(0).normal(size=(16, 3))
    make(max_epochs=0, feature_index_embedding=value).fit(X)  # accepted as a bool there
    assert make(max_epochs=0, recompute=value).fit(X).recompute_ is bool(value)


@pytest.mark.parametrize("value", [2, 1.0, None])
def test_recompute_refuses_the_values_the_other_bool_parameters_refuse(make, value):
    X = np.zeros((8, 3))
    with pytest.raises(TypeError, match="feature_index_embedding must be a bool"):
        make(feature_index_embedding=value).fit(X)
    with pytest.raises(TypeError, match="recompute must be True, False or 'auto'"):
        make(recompute=value).fit(X)
