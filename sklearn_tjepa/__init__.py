"""T-JEPA self-supervised pretraining for tabular data as a scikit-learn transformer."""

__version__ = "0.1.0"

__all__ = ["__version__"]
