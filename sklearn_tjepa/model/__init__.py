"""Pure-torch T-JEPA modules: tokenizer, encoder, predictors, masks and objective (no scikit-learn here)."""

from sklearn_tjepa.model.encoder import TabularEncoder, TransformerBlock, TransformerStack
from sklearn_tjepa.model.jepa import (
    JEPAStudent,
    ModelSpec,
    StudentOutput,
    build_encoder,
    build_student,
    ema_update,
    make_target_encoder,
)
from sklearn_tjepa.model.masks import MaskSampler, mask_count_bounds, place_by_feature
from sklearn_tjepa.model.objective import jepa_loss, target_tokens
from sklearn_tjepa.model.predictors import MLPPredictor, TransformerPredictor
from sklearn_tjepa.model.tokenizer import FeatureTokenizer, sinusoidal_positions

__all__ = [
    "FeatureTokenizer",
    "JEPAStudent",
    "MLPPredictor",
    "MaskSampler",
    "ModelSpec",
    "StudentOutput",
    "TabularEncoder",
    "TransformerBlock",
    "TransformerPredictor",
    "TransformerStack",
    "build_encoder",
    "build_student",
    "ema_update",
    "jepa_loss",
    "make_target_encoder",
    "mask_count_bounds",
    "place_by_feature",
    "sinusoidal_positions",
    "target_tokens",
]
