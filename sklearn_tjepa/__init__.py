"""T-JEPA self-supervised pretraining for tabular data as a scikit-learn transformer, and its
fine-tuning on labels as a classifier and a regressor."""

from sklearn_tjepa.datasets import DatasetUnavailableError, list_benchmarks, load_benchmark
from sklearn_tjepa.estimator import TJEPATransformer
from sklearn_tjepa.finetune import TJEPAClassifier, TJEPARegressor
from sklearn_tjepa.streaming import transform_dataset

__version__ = "0.1.0"

__all__ = [
    "TJEPATransformer",
    "TJEPAClassifier",
    "TJEPARegressor",
    "transform_dataset",
    "load_benchmark",
    "list_benchmarks",
    "DatasetUnavailableError",
    "__version__",
]
