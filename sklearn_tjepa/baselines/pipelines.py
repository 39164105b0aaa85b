"""The "+T-JEPA" variants: a baseline trained on T-JEPA embeddings."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline

__all__ = ["with_tjepa"]


def with_tjepa(model, **tjepa_params):
    """Put a :class:`~sklearn_tjepa.TJEPATransformer` in front of ``model``.

    The T-JEPA encoder is pretrained on the training rows given to ``fit`` (self-supervised, the
    target is not used) and ``model`` is trained on its embeddings.

    Parameters
    ----------
    model : estimator
        Any baseline, for example from :func:`make_baseline` or :func:`make_gbdt`.
    **tjepa_params
        Parameters of :class:`~sklearn_tjepa.estimator.TJEPATransformer` (``d_model``,
        ``n_layers``, ``max_epochs``, ``random_state``, ...).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``make_pipeline(TJEPATransformer(**tjepa_params), model)``.

    Examples
    --------
    >>> from sklearn_tjepa.baselines import MLPClassifier, with_tjepa
    >>> pipe = with_tjepa(MLPClassifier(random_state=0), d_model=64, random_state=0)
    >>> [name for name, _ in pipe.steps]
    ['tjepatransformer', 'mlpclassifier']
    """
    from sklearn_tjepa.estimator import TJEPATransformer

    return make_pipeline(TJEPATransformer(**tjepa_params), model)
