"""Every baseline on small slices of Adult and California; the deep estimators' contract."""

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import accuracy_score, root_mean_squared_error
from skorch.exceptions import DeviceWarning

from sklearn_tjepa.baselines import (
    DEEP_MODELS,
    GBDT_NAMES,
    FTTransformerClassifier,
    MLPClassifier,
    MLPRegressor,
    ResNetClassifier,
    make_baseline,
)

# Small networks, few epochs, early stopping on 20 % of the training rows.
TRAINING = dict(max_epochs=10, patience=3, batch_size=128, validation_fraction=0.2, device="cpu")
DEEP_SMALL = {
    "mlp": dict(n_blocks=2, d_block=64, d_embedding=4),
    "resnet": dict(n_blocks=1, d_block=64, d_embedding=4),
    "ft_transformer": dict(n_blocks=1, d_block=32, attention_n_heads=4, lr=1e-3),
    "dcnv2": dict(d_block=64, n_cross_blocks=2, n_deep_blocks=1, d_embedding=4),
    "autoint": dict(n_blocks=2, d_token=16),
}
GBDT_SMALL = {
    "xgboost": dict(learning_rate=0.1, n_estimators=300, n_jobs=1),
    "lightgbm": dict(learning_rate=0.1, n_estimators=300, n_jobs=1),
    "catboost": dict(learning_rate=0.1, iterations=300, thread_count=1),
    "hist_gradient_boosting": dict(learning_rate=0.1, max_iter=300),
}
GBDT_LIBRARIES = {
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "hist_gradient_boosting": "sklearn",
}


def _slice(path, n_train, n_test):
    frame = pd.read_parquet(path)
    train = frame[frame["split"] == "train"].sample(n_train, random_state=0)
    test = frame[frame["split"] == "test"].sample(n_test, random_state=0)
    features = [c for c in frame.columns if c not in ("target", "split")]
    return train[features], train["target"].to_numpy(), test[features], test["target"].to_numpy()


@pytest.fixture(scope="module")
def adult(benchmark_data):
    """2000 training and 1000 test rows of Adult, with missing values and a category column."""
    X_train, y_train, X_test, y_test = _slice(benchmark_data / "adult.parquet", 2000, 1000)
    rng = np.random.default_rng(0)
    X_train = X_train.astype({"age": float, "hours_per_week": float, "race": "category"})
    X_test = X_test.astype({"age": float, "hours_per_week": float, "race": "category"})
    for X in (X_train, X_test):
        X.loc[rng.random(len(X)) < 0.1, "age"] = np.nan
        X.loc[rng.random(len(X)) < 0.05, "hours_per_week"] = np.nan
        X.loc[rng.random(len(X)) < 0.05, "workclass"] = None
    return X_train, y_train, X_test, y_test


@pytest.fixture(scope="module")
def california(benchmark_data):
    """2000 training and 1000 test rows of California Housing."""
    return _slice(benchmark_data / "california_housing.parquet", 2000, 1000)


def _persisted(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return joblib.load(path)


def _small_params(name):
    if name in GBDT_NAMES:
        pytest.importorskip(GBDT_LIBRARIES[name])
        return dict(random_state=0, validation_fraction=0.2, **GBDT_SMALL[name])
    return dict(random_state=0, **TRAINING, **DEEP_SMALL[name])


MODELS = [*DEEP_MODELS, *GBDT_NAMES]


@pytest.mark.parametrize("name", MODELS)
def test_classifier_beats_dummy_on_adult(name, adult, tmp_path):
    X_train, y_train, X_test, y_test = adult
    model = make_baseline(name, task="classification", **_small_params(name)).fit(X_train, y_train)
    dummy = DummyClassifier().fit(X_train, y_train).score(X_test, y_test)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    assert accuracy > dummy + 0.05, f"{name}: accuracy {accuracy:.3f}, dummy {dummy:.3f}"
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2) and np.all(np.isfinite(proba))
    np.testing.assert_array_equal(_persisted(model, tmp_path).predict_proba(X_test), proba)


@pytest.mark.parametrize("name", MODELS)
def test_regressor_beats_dummy_on_california(name, california, tmp_path):
    X_train, y_train, X_test, y_test = california
    model = make_baseline(name, task="regression", **_small_params(name)).fit(X_train, y_train)
    dummy = root_mean_squared_error(y_test, DummyRegressor().fit(X_train, y_train).predict(X_test))
    prediction = model.predict(X_test)
    rmse = root_mean_squared_error(y_test, prediction)
    assert rmse < 0.8 * dummy, f"{name}: RMSE {rmse:.3f}, dummy {dummy:.3f}"
    np.testing.assert_array_equal(_persisted(model, tmp_path).predict(X_test), prediction)


@pytest.fixture(scope="module")
def small_table():
    """200 rows: two numerical columns (one with NaN), one string column; a learnable target."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    colour = rng.choice(["red", "green", "blue"], 200)
    y = (x[:, 0] + (colour == "red") > 0.5).astype(int)
    x[rng.random(200) < 0.2, 1] = np.nan
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "colour": colour}), y


@pytest.mark.parametrize("name", list(DEEP_MODELS))
def test_deep_model_is_deterministic_and_keeps_the_global_rng(name, small_table):
    X, y = small_table
    model = make_baseline(name, task="classification", random_state=3, **TRAINING, **DEEP_SMALL[name])
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    first = model.fit(X, y).predict_proba(X)
    second = clone(model).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    assert "valid_loss" in model.net_.history[-1]
    assert len(model.net_.history) <= TRAINING["max_epochs"]


@pytest.mark.parametrize("name", list(DEEP_MODELS))
def test_rows_are_predicted_independently(name, small_table):
    # sklearn's check_methods_subset_invariance asks for 1e-7; float32 kernels differ by an ulp.
    X, y = small_table
    model = make_baseline(name, task="classification", random_state=0, **TRAINING, **DEEP_SMALL[name])
    proba = model.fit(X, y).predict_proba(X)
    by_row = np.vstack([model.predict_proba(X.iloc[[i]]) for i in range(0, len(X), 37)])
    np.testing.assert_allclose(by_row, proba[::37], rtol=1e-5, atol=1e-6)


def test_unseen_categories_and_new_missing_values_predict_finite(small_table):
    X, y = small_table
    model = MLPClassifier(random_state=0, **TRAINING, **DEEP_SMALL["mlp"]).fit(X, y)
    X_new = X.head(5).copy()
    X_new["colour"] = ["purple", None, "red", "blue", "green"]
    X_new["a"] = np.nan  # no NaN in this column at fit time: no indicator, value 0
    assert np.all(np.isfinite(model.predict_proba(X_new)))


def test_numpy_input_with_explicit_categorical_column(small_table):
    X, y = small_table
    array = X.to_numpy(dtype=object)
    model = MLPClassifier(categorical_features=[2], random_state=0, **TRAINING, **DEEP_SMALL["mlp"])
    model.fit(array, y)
    assert model.preprocessor_.cardinalities_ == [4]
    assert model.predict(array).shape == (len(y),)
    assert not hasattr(model, "feature_names_in_")


def test_regressor_predicts_in_target_units():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = 1000.0 + 50.0 * X[:, 0]
    model = MLPRegressor(random_state=0, lr=1e-2, **dict(TRAINING, batch_size=32), **DEEP_SMALL["mlp"])
    model.fit(X, y)
    assert model.y_mean_ == pytest.approx(y.mean()) and model.y_scale_ == pytest.approx(y.std())
    assert root_mean_squared_error(y, model.predict(X)) < 0.5 * y.std()


def test_token_models_skip_weight_decay_on_embeddings_norms_and_biases(small_table):
    X, y = small_table
    model = FTTransformerClassifier(
        random_state=0, weight_decay=0.1, **dict(TRAINING, max_epochs=1), **DEEP_SMALL["ft_transformer"]
    ).fit(X, y)
    names = {id(p): n for n, p in model.net_.module_.named_parameters()}
    for group in model.net_.optimizer_.param_groups:
        for p in group["params"]:
            name = names[id(p)]
            exempt = name.startswith("features.") or "normalization" in name or name.endswith(".bias")
            assert group["weight_decay"] == (0.0 if exempt else 0.1), name


def test_batch_norm_survives_a_last_batch_of_one_row():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(65, 3)), rng.integers(0, 2, 65)
    model = ResNetClassifier(
        random_state=0, **dict(TRAINING, batch_size=32, validation_fraction=None), **DEEP_SMALL["resnet"]
    )
    assert model.fit(X, y).predict(X).shape == (65,)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        (dict(patience=0), ValueError, r"patience must be a positive int, got patience=0"),
        (dict(max_epochs=2.5), TypeError, r"max_epochs must be a positive int, got max_epochs=2.5"),
        (dict(batch_size=True), TypeError, r"batch_size must be a positive int"),
        (dict(lr=0.0), ValueError, r"lr must be a positive float, got lr=0.0"),
        (dict(weight_decay=-1.0), ValueError, r"weight_decay must be a non-negative float"),
        (dict(dropout=1.0), ValueError, r"dropout must be a float in \[0, 1\), got dropout=1.0"),
        (dict(d_block="64"), TypeError, r"d_block must be a positive int, got d_block='64'"),
        (dict(validation_fraction=1.5), ValueError, r"validation_fraction must be None or a float"),
        (dict(numerical_scaling="log"), ValueError, r"numerical_scaling must be one of"),
        (dict(lr_scheduler="step"), ValueError, r"lr_scheduler must be one of"),
        (dict(device="tpu"), ValueError, r"device must be 'auto', 'cpu', 'cuda'"),
        (dict(verbose=-1), ValueError, r"verbose must be a bool or a non-negative int"),
    ],
)
def test_invalid_parameters_raise_before_training(params, error, match, small_table):
    X, y = small_table
    with pytest.raises(error, match=match):
        MLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (ResNetClassifier(batch_size=1), r"batch_size must be an int >= 2"),
        (FTTransformerClassifier(d_block=30, attention_n_heads=8), r"d_block must be a multiple"),
        (make_baseline("autoint", task="regression", d_token=9), r"d_token must be a multiple"),
    ],
)
def test_invalid_model_parameters_raise(model, match, small_table):
    X, y = small_table
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)


def test_validation_share_too_small_for_stratification():
    X, y = np.arange(12.0).reshape(6, 2), np.array([0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match=r"validation_fraction=0.2 cannot split n_samples=6 rows"):
        MLPClassifier(validation_fraction=0.2, device="cpu").fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(small_table):
    X, y = small_table
    with pytest.raises(ValueError, match="CUDA is not available"):
        MLPClassifier(device="cuda").fit(X, y)


def test_cosine_schedule_and_verbose_output(small_table, capsys):
    X, y = small_table
    model = MLPClassifier(
        lr_scheduler="cosine", verbose=1, random_state=0, **dict(TRAINING, max_epochs=2), **DEEP_SMALL["mlp"]
    ).fit(X, y)
    assert dict(model.net_.callbacks_)["lr_scheduler"].policy_ is torch.optim.lr_scheduler.CosineAnnealingLR
    assert "valid_loss" in capsys.readouterr().out


def test_model_fitted_on_cuda_loads_without_cuda(small_table, tmp_path):
    X, y = small_table
    model = MLPClassifier(random_state=0, **dict(TRAINING, max_epochs=1), **DEEP_SMALL["mlp"]).fit(X, y)
    expected = model.predict_proba(X)
    model.net_.device = "cuda"  # what a net trained on a GPU records
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    with pytest.warns(DeviceWarning, match="(?i)cuda"):
        loaded = _persisted(model, tmp_path)
    assert torch.device(loaded.net_.device).type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
