"""The "+T-JEPA" variants: a baseline trained on T-JEPA embeddings."""

from __future__ import annotations

import sklearn
from sklearn.pipeline import Pipeline

__all__ = ["with_tjepa"]


def with_tjepa(model, **tjepa_params):
    """Put a :class:`~sklearn_tjepa.TJEPATransformer` in front of ``model``.

    The T-JEPA encoder is pretrained on the training rows given to ``fit`` (self-supervised, the
    target is not used) and ``model`` is trained on its embeddings.

    When scikit-learn's metadata routing is enabled (``sklearn.set_config(
    enable_metadata_routing=True)``) at the time of the call, the pipeline also routes an explicit
    validation set: ``pipeline.fit(X, y, X_val=X_val, y_val=y_val)`` gives the raw ``X_val`` to
    the transformer as its ``eval_set`` (the pretraining epoch kept is the one with the lowest
    JEPA loss on it) and ``X_val`` transformed into embeddings, with ``y_val``, to ``model``, which
    must request them (``model.set_fit_request(X_val=True, y_val=True)``; every baseline of this
    package accepts them for early stopping).

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
        ``make_pipeline(TJEPATransformer(**tjepa_params), model)``, with
        ``transform_input=["X_val"]`` when metadata routing is enabled.

    Examples
    --------
    >>> from sklearn_tjepa.baselines import MLPClassifier, with_tjepa
    >>> pipe = with_tjepa(MLPClassifier(random_state=0), d_model=64, random_state=0)
    >>> [name for name, _ in pipe.steps]
    ['tjepatransformer', 'mlpclassifier']

    With an explicit validation set:

    >>> import sklearn
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     model = MLPClassifier(random_state=0).set_fit_request(X_val=True, y_val=True)
    ...     pipe = with_tjepa(model, random_state=0)
    >>> pipe.transform_input
    ['X_val']
    """
    from sklearn_tjepa.estimator import TJEPATransformer

    tjepa = TJEPATransformer(**tjepa_params)
    steps = [("tjepatransformer", tjepa), (type(model).__name__.lower(), model)]
    if not sklearn.get_config()["enable_metadata_routing"]:
        return Pipeline(steps)
    tjepa.set_fit_request(eval_set="X_val")
    return Pipeline(steps, transform_input=["X_val"])
