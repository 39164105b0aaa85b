"""Plots of a fitted estimator, in scikit-learn's Display style.

- :class:`TrainingCurvesDisplay`: the per-epoch ``history_`` (loss, learning rate, EMA momentum,
  spread and effective rank of the embeddings, probe score, validation loss).
- :class:`EmbeddingDisplay`: a 2-D projection (PCA or t-SNE) of the embeddings, coloured by a label.

Each has a ``from_estimator`` constructor that computes what to draw and plots it, and a ``plot``
method that draws it again on given axes. matplotlib is an optional dependency (the ``plots``
extra): it is imported when a plot is drawn.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils.validation import check_is_fitted

__all__ = ["TrainingCurvesDisplay", "EmbeddingDisplay"]

#: Panels drawn by default, each a history key or a tuple of keys sharing one axes; panels whose
#: keys are absent from the history are left out.
DEFAULT_PANELS = (
    ("loss", "valid_loss"),
    "lr",
    "momentum",
    "embedding_std",
    "effective_rank",
    "probe_score",
)

_TITLES = {
    "loss": "JEPA loss",
    "valid_loss": "validation loss",
    "lr": "learning rate",
    "momentum": "EMA momentum",
    "embedding_std": "embedding spread (std)",
    "effective_rank": "effective rank",
    "probe_score": "probe score",
}

#: Y-axis label (what is measured, in which unit) of each history key; a panel takes its first
#: key's label, and keys not listed here are their own label.
_Y_LABELS = {
    "loss": "mean squared error",
    "valid_loss": "mean squared error",
    "lr": "learning rate",
    "momentum": "momentum",
    "embedding_std": "std across rows",
    "effective_rank": "dimensions",
    "probe_score": "accuracy or R²",
}


def _pyplot():
    """``matplotlib.pyplot``, or an ImportError that names the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "sklearn_tjepa.plotting needs matplotlib; install it with "
            "pip install \"sklearn-tjepa[plots]\" (or pip install matplotlib)"
        ) from error
    return plt


def _axes_grid(n_panels: int, n_cols: int, ax):
    """One axes per panel: new subplots when ``ax`` is None, else the given axes."""
    plt = _pyplot()
    if ax is None:
        n_cols = min(n_cols, n_panels)
        n_rows = -(-n_panels // n_cols)
        figure, grid = plt.subplots(
            n_rows, n_cols, figsize=(4.0 * n_cols, 3.0 * n_rows), squeeze=False, layout="constrained"
        )
        for extra in grid.flat[n_panels:]:
            extra.remove()
        return figure, np.asarray(grid.flat[:n_panels], dtype=object)
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != n_panels:
        raise ValueError(f"ax must hold one axes per panel, got {axes.size} axes for {n_panels} panels")
    return axes[0].figure, axes


class TrainingCurvesDisplay:
    """Training curves of a fitted estimator's ``history_``, one panel per quantity.

    Build it with :meth:`from_estimator`; the constructor only stores what to draw.

    Parameters
    ----------
    history : list of dict
        One record per epoch with an ``epoch`` key, as ``TJEPATransformer.history_``.
    panels : list of (str or tuple of str)
        History keys to draw; the keys of a tuple share one axes (e.g. training and validation
        loss).
    estimator_name : str or None, default=None
        Shown in the figure's title.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        The figure holding the panels.
    axes_ : ndarray of matplotlib.axes.Axes of shape (n_panels,)
        One axes per panel, in the order of ``panels``.
    lines_ : dict of str to matplotlib.lines.Line2D
        The curve of each history key.

    See Also
    --------
    EmbeddingDisplay : 2-D projection of the embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_tjepa import TJEPATransformer
    >>> from sklearn_tjepa.plotting import TrainingCurvesDisplay
    >>> X = np.random.default_rng(0).normal(size=(64, 5))
    >>> tjepa = TJEPATransformer(d_model=8, n_layers=1, n_heads=2, max_epochs=3,
    ...                          random_state=0).fit(X)
    >>> display = TrainingCurvesDisplay.from_estimator(tjepa, metrics=["loss", "lr"])
    >>> len(display.axes_)
    2
    """

    def __init__(self, *, history, panels, estimator_name=None):
        self.history = history
        self.panels = panels
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, metrics=None, ax=None, n_cols=3, line_kw=None):
        """Plot the training curves of a fitted estimator.

        Parameters
        ----------
        estimator : estimator with a ``history_`` attribute
            A fitted :class:`~sklearn_tjepa.TJEPATransformer` (or any estimator whose
            ``history_`` is a list of per-epoch dicts with an ``epoch`` key).
        metrics : list of (str or tuple of str) or None, default=None
            History keys to draw, one panel each; a tuple of keys shares a panel. None draws
            ``("loss", "valid_loss")``, ``"lr"``, ``"momentum"``, ``"embedding_std"``,
            ``"effective_rank"`` and ``"probe_score"``, leaving out the absent ones.
        ax : array-like of matplotlib.axes.Axes or None, default=None
            One axes per panel; None makes a new figure.
        n_cols : int, default=3
            Panels per row of a new figure.
        line_kw : dict or None, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : TrainingCurvesDisplay
        """
        check_is_fitted(estimator, "history_")
        history = list(estimator.history_)
        if not history:
            raise ValueError(
                f"{type(estimator).__name__}.history_ is empty: there are no epochs to plot "
                f"(was it fitted with max_epochs=0?)"
            )
        present = set().union(*history)
        if metrics is None:
            panels = []
            for panel in DEFAULT_PANELS:
                keys = tuple(k for k in ((panel,) if isinstance(panel, str) else panel) if k in present)
                if keys:
                    panels.append(keys[0] if len(keys) == 1 else keys)
        else:
            panels = list(metrics)
            for panel in panels:
                for key in (panel,) if isinstance(panel, str) else panel:
                    if key not in present:
                        raise ValueError(
                            f"metrics holds {key!r}, which is not in history_; available keys: "
                            f"{sorted(present - {'epoch'})}"
                        )
            if not panels:
                raise ValueError("metrics must name at least one history key, got an empty list")
        display = cls(history=history, panels=panels, estimator_name=type(estimator).__name__)
        return display.plot(ax=ax, n_cols=n_cols, line_kw=line_kw)

    def plot(self, *, ax=None, n_cols=3, line_kw=None):
        """Draw the curves.

        Parameters
        ----------
        ax : array-like of matplotlib.axes.Axes or None, default=None
            One axes per panel; None makes a new figure.
        n_cols : int, default=3
            Panels per row of a new figure.
        line_kw : dict or None, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : TrainingCurvesDisplay
            ``self``, with ``figure_``, ``axes_`` and ``lines_`` set.
        """
        self.figure_, self.axes_ = _axes_grid(len(self.panels), n_cols, ax)
        self.lines_ = {}
        for axes, panel in zip(self.axes_, self.panels):
            keys = (panel,) if isinstance(panel, str) else tuple(panel)
            for key in keys:
                rows = [record for record in self.history if key in record]
                (line,) = axes.plot(
                    [record["epoch"] for record in rows],
                    [record[key] for record in rows],
                    **{"marker": "o", "label": key, **(line_kw or {})},
                )
                self.lines_[key] = line
            axes.set_xlabel("epoch")
            axes.set_ylabel(_Y_LABELS.get(keys[0], keys[0]))
            axes.set_title(" / ".join(_TITLES.get(key, key) for key in keys))
            if len(keys) > 1:
                axes.legend()
        if self.estimator_name is not None:
            self.figure_.suptitle(f"{self.estimator_name}: training curves")
        return self


class EmbeddingDisplay:
    """2-D projection of an estimator's embeddings, coloured by a label.

    Build it with :meth:`from_estimator` or :meth:`from_embedding`; the constructor only stores
    what to draw.

    Parameters
    ----------
    projection : ndarray of shape (n_samples, 2)
        Projected embeddings.
    labels : array-like of shape (n_samples,) or None, default=None
        Colour of each point: class labels (one colour each, with a legend) or continuous values
        (a colour map with a colour bar); None draws every point in one colour.
    method : str, default="pca"
        Projection used, for the axis labels.
    estimator_name : str or None, default=None
        Shown in the title.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        The figure.
    ax_ : matplotlib.axes.Axes
        The axes of the scatter plot.
    scatter_ : matplotlib.collections.PathCollection
        The points.
    legend_ : matplotlib.legend.Legend or None
        Legend of the classes, for discrete labels.
    colorbar_ : matplotlib.colorbar.Colorbar or None
        Colour bar, for continuous labels.

    See Also
    --------
    TrainingCurvesDisplay : Per-epoch training curves.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_tjepa import TJEPATransformer
    >>> from sklearn_tjepa.plotting import EmbeddingDisplay
    >>> X = np.random.default_rng(0).normal(size=(64, 5))
    >>> tjepa = TJEPATransformer(d_model=8, n_layers=1, n_heads=2, max_epochs=1,
    ...                          random_state=0).fit(X)
    >>> display = EmbeddingDisplay.from_estimator(tjepa, X, y=X[:, 0] > 0)
    >>> display.scatter_.get_offsets().shape
    (64, 2)
    """

    def __init__(self, *, projection, labels=None, method="pca", estimator_name=None):
        self.projection = projection
        self.labels = labels
        self.method = method
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls, estimator, X, y=None, *, method="pca", discrete=None, random_state=None, ax=None,
        scatter_kw=None, **projection_params,
    ):
        """Embed ``X`` with a fitted estimator's ``transform``, project to 2-D and plot.

        Parameters
        ----------
        estimator : fitted transformer
            Typically a :class:`~sklearn_tjepa.TJEPATransformer` (or a Pipeline ending in one).
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to embed.
        y : array-like of shape (n_samples,) or None, default=None
            Label of each row, for the colours.
        method : {"pca", "tsne"}, default="pca"
            :class:`~sklearn.decomposition.PCA` or :class:`~sklearn.manifold.TSNE` to 2-D.
        discrete : bool or None, default=None
            Whether ``y`` holds classes; None decides from ``y``: numbers with more than 10
            distinct values, of a float dtype, are continuous.
        random_state : int, RandomState instance or None, default=None
            Seed of the projection.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; None makes a new figure.
        scatter_kw : dict or None, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.scatter`.
        **projection_params
            Further parameters of the projection (e.g. ``perplexity`` for t-SNE, which must be
            below the number of rows).

        Returns
        -------
        display : EmbeddingDisplay
        """
        embedding = estimator.transform(X)
        return cls.from_embedding(
            embedding, y, method=method, discrete=discrete, random_state=random_state, ax=ax,
            scatter_kw=scatter_kw, estimator_name=type(estimator).__name__, **projection_params,
        )

    @classmethod
    def from_embedding(
        cls, embedding, y=None, *, method="pca", discrete=None, random_state=None, ax=None,
        scatter_kw=None, estimator_name=None, **projection_params,
    ):
        """Project given embeddings to 2-D and plot them.

        Parameters
        ----------
        embedding : array-like of shape (n_samples, n_dims)
            Embeddings, e.g. the output of ``transform``.
        y : array-like of shape (n_samples,) or None, default=None
            Label of each row, for the colours.
        method : {"pca", "tsne"}, default="pca"
            :class:`~sklearn.decomposition.PCA` or :class:`~sklearn.manifold.TSNE` to 2-D.
        discrete : bool or None, default=None
            Whether ``y`` holds classes; None decides from ``y`` (see :meth:`from_estimator`).
        random_state : int, RandomState instance or None, default=None
            Seed of the projection.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; None makes a new figure.
        scatter_kw : dict or None, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.scatter`.
        estimator_name : str or None, default=None
            Shown in the title.
        **projection_params
            Further parameters of the projection.

        Returns
        -------
        display : EmbeddingDisplay
        """
        embedding = np.asarray(embedding, dtype=np.float64)
        if embedding.ndim != 2 or embedding.shape[1] < 2:
            raise ValueError(
                f"embedding must be 2-D with at least 2 columns, got shape {embedding.shape}"
            )
        if y is not None and len(y) != len(embedding):
            raise ValueError(f"y must have one label per row: got {len(y)} labels for {len(embedding)} rows")
        if method == "pca":
            projector = PCA(n_components=2, random_state=random_state, **projection_params)
        elif method == "tsne":
            projector = TSNE(n_components=2, random_state=random_state, **projection_params)
        else:
            raise ValueError(f"method must be one of 'pca', 'tsne', got {method!r}")
        projection = projector.fit_transform(embedding)
        labels = None if y is None else np.asarray(y)
        display = cls(projection=projection, labels=labels, method=method, estimator_name=estimator_name)
        return display.plot(ax=ax, discrete=discrete, scatter_kw=scatter_kw)

    def plot(self, *, ax=None, discrete=None, cmap=None, scatter_kw=None):
        """Draw the projection.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; None makes a new figure.
        discrete : bool or None, default=None
            Whether ``labels`` are classes; None decides from them: numbers with more than 10
            distinct values, of a float dtype, are continuous.
        cmap : str or matplotlib.colors.Colormap or None, default=None
            Colour map; "tab10" (up to 10 classes), "tab20" (more) or "viridis" (continuous)
            when None. Classes take the first colours of a listed map such as "tab10".
        scatter_kw : dict or None, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : EmbeddingDisplay
            ``self``, with ``figure_``, ``ax_``, ``scatter_``, ``legend_`` and ``colorbar_`` set.
        """
        plt = _pyplot()
        from matplotlib.colors import ListedColormap
        from matplotlib.lines import Line2D

        if ax is None:
            _, ax = plt.subplots(figsize=(5.0, 4.5), layout="constrained")
        self.ax_, self.figure_ = ax, ax.figure
        self.legend_ = self.colorbar_ = None
        x, y = self.projection[:, 0], self.projection[:, 1]
        kw = {"s": 12, "alpha": 0.8, **(scatter_kw or {})}
        labels = self.labels
        if labels is None:
            self.scatter_ = ax.scatter(x, y, **kw)
        else:
            if discrete is None:
                discrete = not (labels.dtype.kind == "f" and np.unique(labels).size > 10)
            if discrete:
                classes, codes = np.unique(labels, return_inverse=True)
                base = plt.get_cmap(cmap or ("tab10" if classes.size <= 10 else "tab20"))
                colours = getattr(base, "colors", ())
                listed = (
                    ListedColormap(colours[: classes.size])
                    if classes.size <= len(colours)
                    else base.resampled(classes.size)
                )
                self.scatter_ = ax.scatter(
                    x, y, c=codes, cmap=listed, vmin=-0.5, vmax=classes.size - 0.5, **kw
                )
                handles = [
                    Line2D([], [], marker="o", linestyle="", color=self.scatter_.to_rgba(code))
                    for code in range(classes.size)
                ]
                self.legend_ = ax.legend(handles, [str(c) for c in classes], title="label")
            else:
                self.scatter_ = ax.scatter(x, y, c=labels.astype(np.float64), cmap=cmap or "viridis", **kw)
                self.colorbar_ = self.figure_.colorbar(self.scatter_, ax=ax, label="label")
        name = {"pca": "PCA", "tsne": "t-SNE"}.get(self.method, self.method)
        ax.set_xlabel(f"{name} 1")
        ax.set_ylabel(f"{name} 2")
        title = "embeddings" if self.estimator_name is None else f"{self.estimator_name} embeddings"
        ax.set_title(f"{title} ({name})")
        return self
