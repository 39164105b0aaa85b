"""One entry point for every baseline, by name: the deep models and the GBDT factory."""

from __future__ import annotations

from sklearn_tjepa._checks import check_option
from sklearn_tjepa.baselines.gbdt import GBDT_NAMES, TASKS, make_gbdt
from sklearn_tjepa.baselines.skorch_models import (
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

__all__ = ["DEEP_MODELS", "MODEL_NAMES", "make_baseline"]

DEEP_MODELS = {
    "mlp": (MLPClassifier, MLPRegressor),
    "resnet": (ResNetClassifier, ResNetRegressor),
    "ft_transformer": (FTTransformerClassifier, FTTransformerRegressor),
    "dcnv2": (DCNv2Classifier, DCNv2Regressor),
    "autoint": (AutoIntClassifier, AutoIntRegressor),
}
MODEL_NAMES = (*DEEP_MODELS, *GBDT_NAMES)


def make_baseline(name, *, task, **params):
    """Build any baseline by name, for example from :func:`load_config`'s ``params``.

    Parameters
    ----------
    name : str
        One of ``MODEL_NAMES``: "mlp", "resnet", "ft_transformer", "dcnv2", "autoint",
        "xgboost", "lightgbm", "catboost", "hist_gradient_boosting".
    task : {"classification", "regression"}
        Picks the classifier or the regressor.
    **params
        Constructor parameters of the deep estimator, or parameters of :func:`make_gbdt`.

    Returns
    -------
    model : estimator

    Examples
    --------
    >>> from sklearn_tjepa.baselines import make_baseline
    >>> make_baseline("mlp", task="regression", d_block=64)
    MLPRegressor(d_block=64)
    """
    check_option("name", name, MODEL_NAMES)
    check_option("task", task, TASKS)
    if name in GBDT_NAMES:
        return make_gbdt(name, task=task, **params)
    classifier, regressor = DEEP_MODELS[name]
    return (classifier if task == "classification" else regressor)(**params)
