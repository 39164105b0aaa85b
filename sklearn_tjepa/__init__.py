"""T-JEPA self-supervised pretraining for tabular data as a scikit-learn transformer."""

from sklearn_tjepa.datasets import DatasetUnavailableError, list_benchmarks, load_benchmark
from sklearn_tjepa.estimator import TJEPATransformer

__version__ = "0.1.0"

__all__ = ["TJEPATransformer", "load_benchmark", "list_benchmarks", "DatasetUnavailableError", "__version__"]
