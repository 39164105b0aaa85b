"""scikit-learn's estimator checks on the skorch-wrapped deep baselines (tiny settings)."""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

from sklearn_tjepa.baselines import (
    AutoIntClassifier,
    AutoIntRegressor,
    DCNv2Classifier,
    DCNv2Regressor,
    FTTransformerClassifier,
    FTTransformerRegressor,
    MLPClassifier,
    MLPRegressor,
    ResNetClassifier,
    ResNetRegressor,
)

# Tiny networks trained for a few epochs with a large learning rate. No validation share: the
# checks fit on as few as 1-10 rows, too few to hold out a stratified validation set (early
# stopping is covered in test_baselines.py).
_COMMON = dict(
    max_epochs=8, batch_size=64, lr=1e-2, validation_fraction=None, device="cpu", random_state=0
)
_FLAT = dict(d_embedding=4, **_COMMON)
# FT-Transformer needs a few more epochs to reach the accuracy bar of check_classifiers_train.
_FT = dict(_COMMON, max_epochs=15)
ESTIMATORS = [
    MLPClassifier(n_blocks=1, d_block=16, dropout=0.0, **_FLAT),
    MLPRegressor(n_blocks=1, d_block=16, dropout=0.0, **_FLAT),
    ResNetClassifier(n_blocks=1, d_block=16, dropout1=0.0, **_FLAT),
    ResNetRegressor(n_blocks=1, d_block=16, dropout1=0.0, **_FLAT),
    DCNv2Classifier(d_block=16, n_cross_blocks=1, n_deep_blocks=1, cross_dropout=0.0, **_FLAT),
    DCNv2Regressor(d_block=16, n_cross_blocks=1, n_deep_blocks=1, cross_dropout=0.0, **_FLAT),
    FTTransformerClassifier(
        n_blocks=1, d_block=8, attention_n_heads=2, attention_dropout=0.0, ffn_dropout=0.0, **_FT
    ),
    FTTransformerRegressor(
        n_blocks=1, d_block=8, attention_n_heads=2, attention_dropout=0.0, ffn_dropout=0.0, **_FT
    ),
    AutoIntClassifier(n_blocks=1, d_token=8, attention_dropout=0.0, **_COMMON),
    AutoIntRegressor(n_blocks=1, d_token=8, attention_dropout=0.0, **_COMMON),
]


def _expected_failed_checks(estimator):
    # Observed on this machine for DCNv2 (and only with some settings), so it may pass or fail
    # for any of the models depending on the CPU: non-strict. test_baselines.py checks the same
    # invariance with a float32 tolerance.
    return {
        "check_methods_subset_invariance": (
            "float32 kernels differ by ~1 ulp between batch heights; test_baselines.py checks "
            "per-row independence with a float32 tolerance"
        )
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS[:2], ids=lambda e: type(e).__name__)
def test_dataframe_column_names_consistency(estimator):
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)
