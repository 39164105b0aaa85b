"""Displays of sklearn_tjepa.plotting: the artists drawn, checked against the data."""

import doctest
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import sklearn_tjepa.plotting  # noqa: E402
from sklearn_tjepa import TJEPATransformer  # noqa: E402
from sklearn_tjepa.callbacks import LinearProbe  # noqa: E402
from sklearn_tjepa.plotting import EmbeddingDisplay, TrainingCurvesDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    """A tiny transformer fitted for 4 epochs with a validation set and a probe every 2 epochs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    tjepa = TJEPATransformer(
        d_model=8, n_layers=1, n_heads=2, ffn_dim=16, predictor_d_model=8, predictor_n_layers=1,
        predictor_n_heads=2, predictor_ffn_dim=16, max_epochs=4, batch_size=32, device="cpu",
        output="cls", callbacks=[LinearProbe(X[:80], y[:80], X[80:], y[80:], every=2)], random_state=0,
    )
    return tjepa.fit(X[:100], eval_set=X[100:]), X, y


def test_training_curves_default_panels_match_history(fitted):
    tjepa, _, _ = fitted
    display = TrainingCurvesDisplay.from_estimator(tjepa)
    titles = [ax.get_title() for ax in display.axes_]
    assert titles == [
        "JEPA loss / validation loss", "learning rate", "EMA momentum",
        "embedding spread (std)", "effective rank", "probe score",
    ]
    assert len(display.figure_.axes) == 6  # a 2x3 grid, nothing left over
    assert [len(ax.get_lines()) for ax in display.axes_] == [2, 1, 1, 1, 1, 1]
    history = tjepa.history_
    for key in ("loss", "valid_loss", "lr", "momentum", "embedding_std", "effective_rank"):
        x, y = display.lines_[key].get_data()
        np.testing.assert_array_equal(x, [r["epoch"] for r in history])
        np.testing.assert_array_equal(y, [r[key] for r in history])
    x, y = display.lines_["probe_score"].get_data()  # only the probed epochs
    np.testing.assert_array_equal(x, [2, 4])
    np.testing.assert_array_equal(y, [history[1]["probe_score"], history[3]["probe_score"]])
    assert display.axes_[0].get_legend() is not None
    assert display.figure_._suptitle.get_text() == "TJEPATransformer: training curves"
    assert [ax.get_xlabel() for ax in display.axes_] == ["epoch"] * 6
    assert [ax.get_ylabel() for ax in display.axes_] == [
        "mean squared error", "learning rate", "momentum", "std across rows", "dimensions", "accuracy or R²",
    ]


def test_training_curves_absent_keys_are_left_out(tiny_params, X_numeric):
    tjepa = TJEPATransformer(**tiny_params, random_state=0).fit(X_numeric)
    display = TrainingCurvesDisplay.from_estimator(tjepa)
    assert list(display.lines_) == ["loss", "lr", "momentum", "embedding_std", "effective_rank"]
    assert display.axes_[0].get_legend() is None


def test_training_curves_chosen_metrics_on_given_axes(fitted):
    tjepa, _, _ = fitted
    figure, axes = plt.subplots(1, 2)
    display = TrainingCurvesDisplay.from_estimator(tjepa, metrics=[("loss", "valid_loss"), "lr"], ax=axes)
    assert display.figure_ is figure and list(display.axes_) == list(axes)
    assert [ax.get_ylabel() for ax in axes] == ["mean squared error", "learning rate"]
    assert [len(ax.get_lines()) for ax in axes] == [2, 1]
    # plot() draws again on other axes and returns the display.
    other = plt.subplots(1, 2)[1]
    assert display.plot(ax=other) is display and list(display.axes_) == list(other)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(metrics=["accuracy"]), r"metrics holds 'accuracy', which is not in history_; available keys: \["),
        (dict(metrics=[]), "at least one history key"),
        (dict(metrics=["loss", "lr"], ax=[None]), "one axes per panel, got 1 axes for 2 panels"),
    ],
)
def test_training_curves_errors(fitted, kwargs, match):
    if "ax" in kwargs:
        kwargs["ax"] = [plt.subplots()[1]]
    with pytest.raises(ValueError, match=match):
        TrainingCurvesDisplay.from_estimator(fitted[0], **kwargs)


def test_training_curves_unfitted_and_empty_history(tiny_params, X_numeric):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TrainingCurvesDisplay.from_estimator(TJEPATransformer())
    untrained = TJEPATransformer(**{**tiny_params, "max_epochs": 0}).fit(X_numeric)
    with pytest.raises(ValueError, match=r"history_ is empty.*max_epochs=0"):
        TrainingCurvesDisplay.from_estimator(untrained)


def test_embedding_pca_points_and_class_colours(fitted):
    tjepa, X, y = fitted
    labels = np.where(y == 1, "yes", "no")
    display = EmbeddingDisplay.from_estimator(tjepa, X, labels, random_state=0)
    offsets = np.asarray(display.scatter_.get_offsets())
    assert offsets.shape == (120, 2)
    from sklearn.decomposition import PCA

    expected = PCA(n_components=2, random_state=0).fit_transform(tjepa.transform(X))
    np.testing.assert_allclose(offsets, expected)
    display.figure_.canvas.draw()  # colours are mapped at draw time
    colours = display.scatter_.get_facecolors()
    assert len(colours) == 120
    yes, no = colours[labels == "yes"], colours[labels == "no"]
    assert (yes == yes[0]).all() and (no == no[0]).all() and not np.array_equal(yes[0], no[0])
    legend = display.legend_
    assert [t.get_text() for t in legend.get_texts()] == ["no", "yes"]
    np.testing.assert_allclose(to_rgba(legend.get_lines()[1].get_color())[:3], yes[0][:3])
    assert display.colorbar_ is None
    assert display.ax_.get_xlabel() == "PCA 1" and display.figure_ is display.ax_.figure


def test_embedding_continuous_labels_get_a_colour_bar():
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(50, 4))
    target = rng.normal(size=50)
    display = EmbeddingDisplay.from_embedding(embedding, target, random_state=0)
    assert display.colorbar_ is not None and display.legend_ is None
    np.testing.assert_allclose(display.scatter_.get_array(), target)
    unlabelled = EmbeddingDisplay.from_embedding(embedding)
    assert len(unlabelled.scatter_.get_facecolors()) == 1  # one colour for every point


def test_embedding_tsne_on_given_axes():
    embedding = np.random.default_rng(0).normal(size=(40, 6))
    figure, ax = plt.subplots()
    display = EmbeddingDisplay.from_embedding(
        embedding, np.arange(40) % 3, method="tsne", perplexity=5, random_state=0, ax=ax
    )
    assert display.ax_ is ax and display.figure_ is figure
    assert np.asarray(display.scatter_.get_offsets()).shape == (40, 2)
    assert ax.get_xlabel() == "t-SNE 1"
    assert len(display.legend_.get_texts()) == 3


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros((10, 1)),), {}, r"at least 2 columns, got shape \(10, 1\)"),
        ((np.zeros((10, 3)), np.zeros(9)), {}, "got 9 labels for 10 rows"),
        ((np.zeros((10, 3)),), {"method": "umap"}, "method must be one of 'pca', 'tsne', got 'umap'"),
    ],
)
def test_embedding_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        EmbeddingDisplay.from_embedding(*args, **kwargs)


def test_missing_matplotlib_names_the_extra(monkeypatch, fitted):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-tjepa\[plots\]"):
        TrainingCurvesDisplay.from_estimator(fitted[0])


def test_docstring_examples_run():
    failures, attempted = doctest.testmod(sklearn_tjepa.plotting, optionflags=doctest.ELLIPSIS)
    assert attempted >= 4 and failures == 0


def test_embedding_classes_take_the_first_listed_colours():
    embedding = np.random.default_rng(0).normal(size=(30, 3))
    display = EmbeddingDisplay.from_embedding(embedding, np.arange(30) % 3)
    display.figure_.canvas.draw()
    expected = [to_rgba(c, alpha=0.8) for c in plt.get_cmap("tab10").colors[:3]]
    np.testing.assert_allclose(display.scatter_.get_facecolors()[:3], expected)
