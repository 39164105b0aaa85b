"""Tests for sklearn_tjepa.callbacks: hook calls by keyword, parameters and clone of callbacks."""

import inspect

import pytest
from sklearn.base import clone

from sklearn_tjepa.callbacks import Callback, LinearProbe


class _KeywordOnly(Callback):
    """Hooks whose arguments after the estimator are keyword-only, as a future-proof subclass may write them."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, est, **kwargs):
        self.calls.append(("begin", kwargs))

    def on_epoch_end(self, est, *, record, **kwargs):
        self.calls.append(("epoch", record["epoch"]))

    def on_train_end(self, est, **kwargs):
        self.calls.append(("end", kwargs))


class _Threshold(Callback):
    def __init__(self, metric="loss", threshold=0.0):
        self.metric = metric
        self.threshold = threshold


def test_fit_passes_the_hook_arguments_by_keyword(make, X_numeric):
    callback = _KeywordOnly()
    make(callbacks=[callback]).fit(X_numeric)
    assert callback.calls == [("begin", {}), ("epoch", 1), ("epoch", 2), ("end", {})]


@pytest.mark.parametrize("hook", ["on_train_begin", "on_epoch_end", "on_train_end"])
def test_every_hook_of_the_built_in_callbacks_accepts_more_keywords(hook):
    from sklearn_tjepa import tracking

    for cls in (Callback, LinearProbe, tracking.MLflowLogger, tracking.TensorBoardLogger):
        kinds = [p.kind for p in inspect.signature(getattr(cls, hook)).parameters.values()]
        assert inspect.Parameter.VAR_KEYWORD in kinds, f"{cls.__name__}.{hook}"
    Callback().on_epoch_end(None, record={"epoch": 1}, a_later_argument=True)


def test_get_params_and_set_params_follow_the_constructor():
    callback = _Threshold(threshold=0.5)
    assert callback.get_params() == {"metric": "loss", "threshold": 0.5}
    assert callback.set_params(metric="probe_score") is callback
    assert callback.metric == "probe_score"
    with pytest.raises(ValueError, match="Invalid parameter 'metirc'"):
        callback.set_params(metirc="loss")
    assert Callback().get_params() == {}


def test_clone_builds_new_callbacks_that_share_the_probe_rows(make, binary_problem):
    X, y = binary_problem
    probe = LinearProbe(X[:80], y[:80], X[80:], y[80:], every=2)
    est = make(callbacks=[probe, _Threshold(threshold=0.5)])
    cloned = clone(est)
    new_probe, new_threshold = cloned.callbacks
    assert type(new_probe) is LinearProbe and new_probe is not probe
    for name in ("X_train", "y_train", "X_valid", "y_valid"):
        assert getattr(new_probe, name) is getattr(probe, name), name  # shared, not copied
    assert new_probe.get_params() == probe.get_params()
    assert new_threshold.get_params() == {"metric": "loss", "threshold": 0.5}


def test_clone_leaves_what_a_callback_kept_from_a_fit_behind(make, X_numeric):
    callback = _KeywordOnly()
    est = make(callbacks=[callback]).fit(X_numeric)
    assert clone(est).callbacks[0].calls == []
    assert len(callback.calls) == 4
