"""What each grid model reads: raw columns kept beside the tokens for GBDTs and linear."""

import numpy as np
import pandas as pd
import pytest

from sklearn_tjepa.bench.inputs import RAW_PLUS_TOKENS, describe_reading, model_input


@pytest.fixture
def raw():
    return pd.DataFrame({"age": [30.0, 40.0, 50.0], "job": ["a", "b", "a"]}, index=[7, 3, 9])


def test_gbdts_and_linear_read_raw_columns_plus_flattened_tokens(raw):
    tokens = np.arange(12, dtype=np.float32).reshape(3, 4)
    for model in RAW_PLUS_TOKENS:
        X = model_input(model, raw, tokens)
        assert list(X.columns) == ["age", "job", "tjepa_0", "tjepa_1", "tjepa_2", "tjepa_3"]
        assert X["job"].tolist() == ["a", "b", "a"]
        np.testing.assert_array_equal(X.iloc[:, 2:].to_numpy(), tokens)


def test_deep_models_read_the_tokens_alone(raw):
    tokens = np.ones((3, 4), dtype=np.float32)
    assert model_input("mlp", raw, tokens) is tokens


def test_rows_must_match(raw):
    with pytest.raises(ValueError, match="same rows, got 3 raw rows and 2"):
        model_input("xgboost", raw, np.ones((2, 4)))


def test_descriptions():
    shape = {"n_tokens": 15, "token_width": 64}
    assert describe_reading("catboost", "raw") == "raw table"
    assert describe_reading("catboost", "tjepa", **shape) == "raw + flattened tokens (15 x 64)"
    assert describe_reading("linear", "untrained", **shape) == "raw + flattened tokens (15 x 64)"
    assert describe_reading("mlp", "tjepa", token_reading="flatten",
                            **shape) == "flattened tokens (15 x 64)"
    assert describe_reading("mlp", "tjepa", token_reading="per_token", **shape).startswith(
        "tokens (15 x 64), each reduced to one number")
    assert "untrained encoder, fine-tuned" in describe_reading("finetune", "untrained")
    assert "label column missing, through the target-aware pretrained encoder" in describe_reading(
        "finetune", "target")
