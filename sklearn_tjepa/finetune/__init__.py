"""Fine-tuning a pretrained T-JEPA encoder on labels: :class:`TJEPAClassifier`, :class:`TJEPARegressor`."""

from sklearn_tjepa.finetune.estimators import TJEPAClassifier, TJEPARegressor

__all__ = ["TJEPAClassifier", "TJEPARegressor"]
