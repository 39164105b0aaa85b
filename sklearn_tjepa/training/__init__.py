"""The pretraining loop, its schedules, checkpoints and monitoring (torch only, no DataFrames)."""

from sklearn_tjepa.training.config import TrainConfig
from sklearn_tjepa.training.loop import TrainResult, train_tjepa

__all__ = ["TrainConfig", "TrainResult", "train_tjepa"]
