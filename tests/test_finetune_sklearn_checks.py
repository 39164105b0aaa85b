"""scikit-learn's estimator checks on TJEPAClassifier and TJEPARegressor (tiny settings)."""

import pytest
from conftest import TINY_PARAMS
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

from sklearn_tjepa import TJEPAClassifier, TJEPARegressor, TJEPATransformer

# A tiny encoder pretrained for one epoch, fine-tuned for a few with a large learning rate. No
# validation share: the checks fit on as few as 1-10 rows (early stopping is covered in
# test_finetune.py).
_TJEPA = TJEPATransformer(**{**TINY_PARAMS, "max_epochs": 1})
_FINETUNE = dict(
    head_d_block=16, max_epochs=10, batch_size=64, lr=1e-2, encoder_lr_ratio=1.0,
    validation_fraction=None, device="cpu", random_state=0,
)
# Each with and without target-aware pretraining (the label as one more pretraining column).
ESTIMATORS = [
    estimator(tjepa=_TJEPA, target_aware=target_aware, **_FINETUNE)
    for estimator in (TJEPAClassifier, TJEPARegressor)
    for target_aware in (False, True)
]

# A failing check with its reason. The subset invariance asks for 1e-7, but float32 kernels
# differ by ~1 ulp between batch heights (seen for the regressor, depending on the weights):
# non-strict, and test_finetune.py checks per-row independence with a float32 tolerance.
_FAILED_CHECKS = {
    "check_methods_subset_invariance": (
        "float32 kernels differ by ~1 ulp between batch heights; test_finetune.py checks "
        "per-row independence with a float32 tolerance"
    )
}
_CLASSIFIER_FAILED_CHECKS = {
    **_FAILED_CHECKS,
    "check_classifiers_classes": (
        "its last problem labels the classes -1 and 1, but -1 marks an unlabelled row as in "
        "sklearn.semi_supervised (scikit-learn exempts its own semi-supervised classifiers by "
        "name); test_finetune.py checks string, object and integer labels"
    ),
}
_TARGET_AWARE_REGRESSOR_FAILED_CHECKS = {
    **_FAILED_CHECKS,
    "check_regressors_train": (
        "with target-aware pretraining, its training R^2 after one pretraining epoch and 10 "
        "fine-tuning epochs clears 0.5 for some seeds only; test_finetune.py checks that "
        "target-aware regression fits and predicts"
    ),
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, TJEPAClassifier):
        return _CLASSIFIER_FAILED_CHECKS
    return _TARGET_AWARE_REGRESSOR_FAILED_CHECKS if estimator.target_aware else _FAILED_CHECKS


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_dataframe_column_names_consistency(estimator):
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)
