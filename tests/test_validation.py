"""Tests for sklearn_tjepa.validation: device resolution, the rule every estimator follows for its
parameters (a value of the wrong type raises TypeError, one of the right type out of range ValueError),
and checkpoint settings refused without a checkpoint_dir."""

import numpy as np
import pytest
import torch

from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.validation import CHECKPOINT_SETTINGS, resolve_device


@pytest.mark.parametrize("device", ["tpu", "cuda:x", "meta"])
def test_resolve_device_rejects_unknown_devices(device):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda'"):
        resolve_device(device)


@pytest.mark.parametrize("device", [3, None, ["cpu"]])
def test_resolve_device_rejects_a_device_that_is_not_a_str_with_type_error(device):
    with pytest.raises(TypeError, match=r"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got device="):
        resolve_device(device)


def test_resolve_device_maps_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_resolve_device_refuses_cuda_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")


# ---------------------------------------------------------------- one rule for every estimator

def _estimators():
    """Every public estimator, built tiny (name -> factory)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from sklearn_tjepa import TJEPAClassifier, TJEPARegressor, TJEPATransformer, baselines

    tiny = dict(d_model=8, n_layers=1, n_heads=2, ffn_dim=8, predictor_d_model=8, predictor_n_heads=2,
                predictor_ffn_dim=8, max_epochs=1, device="cpu")
    factories = {
        "TJEPATransformer": lambda: TJEPATransformer(**tiny),
        "TJEPAClassifier": lambda: TJEPAClassifier(tjepa=TJEPATransformer(**tiny), max_epochs=1, device="cpu"),
        "TJEPARegressor": lambda: TJEPARegressor(tjepa=TJEPATransformer(**tiny), max_epochs=1, device="cpu"),
        "GBDTClassifier": lambda: baselines.GBDTClassifier(estimator=HistGradientBoostingClassifier(max_iter=2)),
        "GBDTRegressor": lambda: baselines.GBDTRegressor(estimator=HistGradientBoostingRegressor(max_iter=2)),
    }
    for name in baselines.__all__:
        cls = getattr(baselines, name)
        if isinstance(cls, type) and name not in factories:
            factories[name] = lambda cls=cls: cls(max_epochs=1, device="cpu")
    return factories


ESTIMATORS = _estimators()


def test_every_estimator_class_of_the_package_is_covered():
    from sklearn.base import BaseEstimator

    from sklearn_tjepa import baselines

    exported = {name for name in baselines.__all__ if isinstance(getattr(baselines, name), type)}
    assert all(issubclass(getattr(baselines, name), BaseEstimator) for name in exported)
    assert exported | {"TJEPATransformer", "TJEPAClassifier", "TJEPARegressor"} == set(ESTIMATORS)


@pytest.mark.parametrize(
    "estimator, parameter",
    [(name, parameter) for name, factory in ESTIMATORS.items() for parameter in factory().get_params(deep=False)],
)
def test_a_value_of_the_wrong_type_raises_type_error_naming_the_parameter(estimator, parameter):
    # No constructor parameter accepts any object, so every one must refuse an object() with a
    # TypeError (a value of the right type out of range gets a ValueError instead), before training.
    X = np.random.default_rng(0).normal(size=(24, 3))
    y = (X[:, 0] > 0).astype(int) if "Regressor" not in estimator else X[:, 1]
    value = object()
    model = ESTIMATORS[estimator]().set_params(**{parameter: value})
    with pytest.raises(TypeError) as raised:
        model.fit(X, y)
    message = str(raised.value)
    assert parameter in message and repr(value) in message, message


@pytest.mark.parametrize(
    "setting, match",
    [
        (dict(checkpoint_every=2), r"checkpoint_every=2 needs a checkpoint_dir .*got checkpoint_dir=None "
                                   r"\(without checkpoints, leave checkpoint_every=1\)"),
        (dict(checkpoint_every_rows=100), r"checkpoint_every_rows=100 needs a checkpoint_dir .*got checkpoint_dir=None "
                                          r"\(without checkpoints, leave checkpoint_every_rows=None\)"),
    ],
)
def test_checkpoint_settings_without_checkpoint_dir_are_refused_not_ignored(make, X_small, setting, match):
    with pytest.raises(ValueError, match=match):
        make(**setting).fit(X_small)
    with pytest.raises(ValueError, match=match):
        make(**setting).partial_fit(X_small)


def test_the_checkpoint_settings_that_ask_for_no_checkpoint_are_the_defaults():
    defaults = TJEPATransformer().get_params()
    assert {name: defaults[name] for name in CHECKPOINT_SETTINGS} == CHECKPOINT_SETTINGS
