"""Per-dataset default configurations: every file loads and builds its model."""

import json
from importlib.resources import files

import pytest

from sklearn_tjepa.baselines import DATASET_CODES, DEEP_MODELS, MODEL_NAMES, load_config, make_baseline

LIBRARY = {"xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost"}


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("dataset_code", DATASET_CODES)
def test_config_loads_and_builds_a_valid_model(dataset_code, model):
    config = load_config(dataset_code, model)
    assert config["dataset"] == dataset_code and config["model"] == model
    assert config["task"] == ("regression" if dataset_code == "california_CA" else "classification")
    assert config["source"].strip()
    if model in LIBRARY:
        pytest.importorskip(LIBRARY[model])
    estimator = make_baseline(model, task=config["task"], random_state=0, **config["params"])
    if model in DEEP_MODELS:
        estimator._check_params()  # every parameter validated, without training
        assert estimator.max_epochs <= 100


def test_untuned_configs_say_so():
    for dataset_code in DATASET_CODES:
        for model in ("lightgbm", "hist_gradient_boosting"):
            assert "not tuned" in load_config(dataset_code, model)["source"]


@pytest.mark.parametrize(
    ("args", "match"),
    [(("adult", "mlp"), r"dataset_code must be one of"), (("adult_AD", "tabnet"), r"model must be one of")],
)
def test_unknown_names(args, match):
    with pytest.raises(ValueError, match=match):
        load_config(*args)


def test_config_dir_missing_file_and_mismatch(tmp_path):
    with pytest.raises(FileNotFoundError, match="No configuration file"):
        load_config("adult_AD", "mlp", config_dir=tmp_path)
    (tmp_path / "adult_AD").mkdir()
    (tmp_path / "adult_AD" / "mlp.json").write_text(json.dumps({"dataset": "adult_AD", "model": "resnet"}))
    with pytest.raises(ValueError, match="is not a configuration of 'mlp' on 'adult_AD'"):
        load_config("adult_AD", "mlp", config_dir=tmp_path)


def test_shipped_files_are_exactly_the_dataset_model_grid():
    """Package data holds one file per (dataset, model) pair and nothing else."""
    shipped = files("sklearn_tjepa.baselines").joinpath("configs_data")
    found = {(d.name, f.name) for d in shipped.iterdir() if d.is_dir() for f in d.iterdir()}
    assert found == {(d, f"{m}.json") for d in DATASET_CODES for m in MODEL_NAMES}
