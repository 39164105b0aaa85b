"""Baselines of the T-JEPA benchmark as scikit-learn estimators.

- Deep models of Gorishniy et al. (2021), trained with skorch: :class:`MLPClassifier`,
  :class:`ResNetClassifier`, :class:`FTTransformerClassifier`, :class:`DCNv2Classifier`,
  :class:`AutoIntClassifier` and their regressors.
- Gradient-boosted trees (XGBoost, LightGBM, CatBoost, HistGradientBoosting) from one factory,
  :func:`make_gbdt`.
- :func:`make_baseline` builds any of them by name, :func:`load_config` reads the per-dataset
  defaults shipped with the package and :func:`with_tjepa` adds T-JEPA embeddings in front.
"""

from sklearn_tjepa.baselines.configs import DATASET_CODES, load_config
from sklearn_tjepa.baselines.factory import DEEP_MODELS, MODEL_NAMES, make_baseline
from sklearn_tjepa.baselines.gbdt import GBDT_NAMES, GBDTClassifier, GBDTRegressor, make_gbdt
from sklearn_tjepa.baselines.pipelines import with_tjepa
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

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "ResNetClassifier",
    "ResNetRegressor",
    "FTTransformerClassifier",
    "FTTransformerRegressor",
    "DCNv2Classifier",
    "DCNv2Regressor",
    "AutoIntClassifier",
    "AutoIntRegressor",
    "GBDTClassifier",
    "GBDTRegressor",
    "make_gbdt",
    "make_baseline",
    "with_tjepa",
    "load_config",
    "DEEP_MODELS",
    "GBDT_NAMES",
    "MODEL_NAMES",
    "DATASET_CODES",
]
