"""Explicit validation sets (X_val, y_val) for the baselines, also routed through a Pipeline,
and the per-token reading of frozen tokens (token_width)."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa.baselines import MLPClassifier, MLPRegressor, ResNetClassifier, make_gbdt, with_tjepa
from sklearn_tjepa.baselines import gbdt as gbdt_module
from sklearn_tjepa.baselines.features import FlatFeatures, TabularNet, TokenReduction

SMALL = dict(n_blocks=1, d_block=8, max_epochs=3, batch_size=32, device="cpu", random_state=0)
TINY_TJEPA = dict(d_model=8, n_layers=1, n_heads=2, ffn_dim=16, predictor_d_model=8,
                  predictor_n_layers=1, predictor_n_heads=2, predictor_ffn_dim=16,
                  max_epochs=2, batch_size=32, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X[:120], y[:120], X[120:], y[120:]


def _rows_seen(model):
    """Training and validation rows of the first epoch of a skorch-based baseline."""
    batches = model.net_.history[0]["batches"]
    return (sum(b.get("train_batch_size", 0) for b in batches),
            sum(b.get("valid_batch_size", 0) for b in batches))


def test_skorch_baseline_trains_on_all_rows_and_validates_on_x_val(problem):
    X, y, X_val, y_val = problem
    model = MLPClassifier(validation_fraction=0.5, **SMALL).fit(X, y, X_val=X_val, y_val=y_val)
    assert _rows_seen(model) == (120, 40)
    without = MLPClassifier(validation_fraction=0.5, **SMALL).fit(X, y)
    assert _rows_seen(without) == (60, 60)


def test_skorch_regressor_standardises_y_val_with_the_training_scale(problem):
    X, _, X_val, _ = problem
    y, y_val = 100 + 10 * X[:, 0], 100 + 10 * X_val[:, 0]
    model = MLPRegressor(**SMALL).fit(X, y, X_val=X_val, y_val=y_val)
    # A validation target left unscaled would give a loss of about 100**2.
    assert model.net_.history[-1]["valid_loss"] < 10


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(X_val=np.zeros((3, 6))), "X_val and y_val must be given together"),
        (dict(y_val=np.zeros(3)), "X_val and y_val must be given together"),
        (dict(X_val=np.zeros((3, 6)), y_val=np.array([0, 1, 7])), r"not in the training target y: \[7\]"),
    ],
)
def test_invalid_validation_sets_are_rejected(problem, kwargs, message):
    X, y, _, _ = problem
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**SMALL).fit(X, y, **kwargs)
    with pytest.raises(ValueError, match=message):
        make_gbdt("hist_gradient_boosting", task="classification", max_iter=5).fit(X, y, **kwargs)


def test_gbdt_early_stops_on_x_val_and_trains_on_all_rows(problem, monkeypatch):
    X, y, X_val, y_val = problem
    seen = {}
    original = gbdt_module._fit_booster

    def spy(library, model, X_fit, y_fit, X_stop, y_stop, **kwargs):
        seen.update(n_fit=len(X_fit), n_stop=len(X_stop), y_stop=np.asarray(y_stop))
        return original(library, model, X_fit, y_fit, X_stop, y_stop, **kwargs)

    monkeypatch.setattr(gbdt_module, "_fit_booster", spy)
    model = make_gbdt("hist_gradient_boosting", task="classification", random_state=0, max_iter=20)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    assert seen["n_fit"] == 120 and seen["n_stop"] == 40
    np.testing.assert_array_equal(seen["y_stop"], y_val)


def test_validation_set_is_routed_through_a_pipeline(problem):
    X, y, X_val, y_val = problem
    with sklearn.config_context(enable_metadata_routing=True):
        model = MLPClassifier(**SMALL).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", model)], transform_input=["X_val"])
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
    assert _rows_seen(pipe[-1]) == (120, 40)


def test_with_tjepa_routes_x_val_to_pretraining_and_to_the_model(problem):
    X, y, X_val, y_val = problem
    with sklearn.config_context(enable_metadata_routing=True):
        model = make_gbdt("hist_gradient_boosting", task="classification", random_state=0,
                          max_iter=10).set_fit_request(X_val=True, y_val=True)
        pipe = with_tjepa(model, **TINY_TJEPA)
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
    tjepa = pipe[0]
    assert all("valid_loss" in epoch for epoch in tjepa.history_)  # eval_set reached pretraining
    assert pipe[-1].n_features_in_ == tjepa.transform(X[:1]).shape[1]
    assert pipe.predict(X_val).shape == (40,)


def test_with_tjepa_without_routing_is_a_plain_pipeline():
    pipe = with_tjepa(MLPClassifier(), **TINY_TJEPA)
    assert pipe.transform_input is None


def test_token_reduction_reads_one_number_per_token():
    net = TabularNet(FlatFeatures(n_num=3, missing_columns=[], cat_cardinalities=[], d_embedding=1),
                     torch.nn.Identity())
    reduce = TokenReduction(net, n_tokens=3, token_width=2)
    with torch.no_grad():
        reduce.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    out = reduce(x, torch.zeros(1, 0, dtype=torch.long))
    torch.testing.assert_close(out, torch.tensor([[1.0, 4.0, 11.0]]))


def test_per_token_model_fits_and_predicts(problem):
    X, y, X_val, y_val = problem
    model = ResNetClassifier(token_width=3, **SMALL).fit(X, y, X_val=X_val, y_val=y_val)
    assert isinstance(model.net_.module_, TokenReduction)
    assert model.net_.module_.n_tokens == 2
    assert model.predict(X_val).shape == (40,)


def test_token_width_must_divide_the_numerical_columns(problem):
    X, y, _, _ = problem
    with pytest.raises(ValueError, match="token_width=4 with 6 numerical and 0 categorical"):
        MLPClassifier(token_width=4, **SMALL).fit(X, y)
