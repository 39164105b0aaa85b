"""How a fit ended: epochs or boosting rounds run, the cap, the one kept, and what stopped it.

A budget caps every fit; a cap that ends a fit while the val score still improves measures the
budget, not the model. :func:`fit_extent` reads what happened from the fitted estimator (skorch's
history and early-stopping callback for the deep baselines and the fine-tuners, the booster's own
record for the GBDTs, the solver's iterations for logistic regression) and the runner stores it
as ``fit`` in every result.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_extent"]


def _extent(unit: str, run: int, cap: int, best, stopped_early: bool) -> dict:
    return {
        "unit": unit,
        "run": int(run),
        "cap": int(cap),
        "best": None if best is None else int(best),
        "ended_by": "early stopping" if stopped_early else ("cap" if run >= cap else "converged"),
    }


def _skorch(model) -> dict:
    """Deep baselines and fine-tuners: epochs in skorch's history, early stopping's verdict."""
    net = model.net_
    stopping = dict(net.callbacks_).get("early_stopping")
    run = len(net.history)
    if stopping is None:
        return _extent("epochs", run, model.max_epochs, None, False)
    stopped = stopping.misses_ >= stopping.patience
    return _extent("epochs", run, model.max_epochs, stopping.best_epoch_, stopped)


def _booster(model) -> dict:
    """GBDTs: rounds run (one validation score per round), the cap, the best round (1-based)."""
    booster = model.estimator_
    library = model.library_
    if library == "xgboost":
        scores = next(iter(booster.evals_result().values()), {})
        run = len(next(iter(scores.values()), [])) or booster.get_booster().num_boosted_rounds()
        best = getattr(booster, "best_iteration", None)
        return _extent("rounds", run, booster.n_estimators, None if best is None else best + 1,
                       run < booster.n_estimators)
    if library == "lightgbm":
        scores = next(iter(booster.evals_result_.values()), {})
        run = len(next(iter(scores.values()), [])) or booster.booster_.current_iteration()
        best = booster.best_iteration_ or None
        return _extent("rounds", run, booster.n_estimators, best, run < booster.n_estimators)
    if library == "catboost":
        cap = booster.get_params()["iterations"]
        scores = booster.get_evals_result().get("validation", {})
        run = len(next(iter(scores.values()), [])) or booster.tree_count_
        best = booster.get_best_iteration()
        return _extent("rounds", run, cap, None if best is None else best + 1, run < cap)
    # HistGradientBoosting keeps every round; validation_score_[0] is before the first one.
    scores = getattr(booster, "validation_score_", None)
    best = int(np.argmax(scores)) if scores is not None and len(scores) else None
    return _extent("rounds", booster.n_iter_, booster.max_iter, best,
                   booster.n_iter_ < booster.max_iter)


def _linear(model) -> dict | None:
    """Logistic regression: solver iterations against ``max_iter``; ridge has no iterations."""
    head = model.model_[-1]
    n_iter = getattr(head, "n_iter_", None)
    if n_iter is None:
        return None
    return _extent("solver iterations", int(np.max(n_iter)), head.max_iter, None, False)


def fit_extent(model) -> dict | None:
    """How the fit of a grid model ended.

    Parameters
    ----------
    model : fitted estimator
        A deep baseline or fine-tuner (skorch), a GBDT wrapper or the ``linear`` model.

    Returns
    -------
    extent : dict or None
        ``unit`` ("epochs", "rounds" or "solver iterations"), ``run``, ``cap``, ``best`` (the
        1-based epoch or round kept, None when unknown) and ``ended_by``: "early stopping"
        (patience ran out on val), "cap" (the budget's limit was reached first) or "converged"
        (a solver stopped on its own tolerance). None for a model without iterations (ridge).
    """
    if hasattr(model, "net_"):
        return _skorch(model)
    if hasattr(model, "estimator_") and hasattr(model, "library_"):
        return _booster(model)
    if hasattr(model, "model_"):
        return _linear(model)
    raise TypeError(f"model must be a fitted grid model, got {type(model).__name__}")
