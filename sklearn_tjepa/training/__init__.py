"""The pretraining loop, its settings, random streams, schedules, checkpoints and monitoring (torch only, no DataFrames)."""

from sklearn_tjepa.training.config import RunOptions, TrainConfig
from sklearn_tjepa.training.loop import TrainResult, train_tjepa

__all__ = ["RunOptions", "TrainConfig", "TrainResult", "train_tjepa"]
