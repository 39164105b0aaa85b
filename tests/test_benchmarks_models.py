"""The grid's models as the budget builds them: fine-tuners' starting point and caps, linear."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.bench.budgets import get_budget
from sklearn_tjepa.bench.data import BenchData
from sklearn_tjepa.bench.models import build_model


@pytest.fixture
def data():
    frame = pd.DataFrame({"age": [30.0, 40.0, 50.0, 60.0], "job": ["a", "b", "a", "b"]})
    splits = {"train": np.arange(2), "val": np.arange(2, 3), "test": np.arange(3, 4)}
    return BenchData(name="toy", code="toy_TY", task="binary", frame=frame,
                     target=np.array([0, 1, 0, 1]), splits=splits, variant={})


def test_finetune_starts_from_the_given_transformer_frozen(data):
    transformer = TJEPATransformer()
    model, config = build_model("finetune", data=data, features="untrained",
                                budget=get_budget("smoke"), seed=3, transformer=transformer)
    assert model.tjepa.estimator is transformer
    assert config["params"]["tjepa"] == "frozen cached transformer (untrained)"
    assert (model.max_epochs, model.patience, model.random_state) == (2, 1, 3)


def test_finetune_epoch_cap_can_differ_from_the_deep_models(data):
    budget = replace(get_budget("smoke"), model_max_epochs={"finetune": 7, "mlp": 1})
    finetune, _ = build_model("finetune", data=data, features="tjepa", budget=budget, seed=0,
                              transformer=TJEPATransformer())
    mlp, _ = build_model("mlp", data=data, features="raw", budget=budget, seed=0)
    assert (finetune.max_epochs, mlp.max_epochs) == (7, 1)


def test_finetune_has_no_raw_feature_cell(data):
    with pytest.raises(ValueError, match="finetune starts from the cached transformer"):
        build_model("finetune", data=data, features="raw", budget=get_budget("smoke"), seed=0)


def test_target_aware_finetune_pretrains_the_budget_s_configuration_itself(data):
    budget = get_budget("smoke")
    model, config = build_model("finetune", data=data, features="target", budget=budget, seed=3)
    assert model.target_aware is True and model.random_state == 3
    assert isinstance(model.tjepa, TJEPATransformer)  # not frozen: fit pretrains it
    assert model.tjepa.get_params()["d_model"] == budget.tjepa["d_model"]
    assert model.tjepa.random_state == 3
    assert config["params"]["target_aware"] is True


def test_target_aware_cell_is_for_finetune_only(data):
    with pytest.raises(ValueError, match="only finetune has it, got model='mlp'"):
        build_model("mlp", data=data, features="target", budget=get_budget("smoke"), seed=0)


def test_linear_one_hot_encodes_the_raw_categorical_columns_beside_tokens(data):
    model, _ = build_model("linear", data=data, features="tjepa", budget=get_budget("smoke"),
                           seed=0)
    assert model.categorical_features == ("job",)
