"""The report's PNG plots (matplotlib, Agg backend): scores by model and feature set, and scores
against the label fraction, with error bars of one sample standard deviation over seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_tjepa.bench.pretrain import FEATURES

__all__ = ["FEATURE_LABELS", "LOG_Y_SPREAD", "axis_label", "plot_fractions", "plot_models", "y_scale"]

#: How the report names the feature sets (``target``: fine-tuning after target-aware pretraining).
FEATURE_LABELS = {"raw": "raw", "tjepa": "+T-JEPA", "untrained": "+untrained",
                  "target": "+target-aware T-JEPA"}


def axis_label(metric: str, unit: str | None) -> str:
    """``"test accuracy"`` or ``"test RMSE ($100k), lower is better"``."""
    if metric == "rmse":
        return f"test RMSE{f' ({unit})' if unit else ''}, lower is better"
    return f"test {metric}"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _mean_std(cells: pd.Series) -> tuple[float, float]:
    values = cells.dropna()
    if values.empty:
        return np.nan, 0.0
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def plot_models(frame: pd.DataFrame, *, models: list[str], title: str, ylabel: str,
                anchors: dict, path: Path) -> None:
    """Bars of the mean test score by model, one per feature set of grid A, with error bars.

    Parameters
    ----------
    frame : DataFrame
        Results of one dataset at label fraction 1.0.
    models : list of str
        Models along the x axis, in order.
    title, ylabel : str
    anchors : dict of str -> float
        Published raw-table scores by model (on our scale), drawn as black crosses.
    path : Path
        PNG file to write.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(models)), 4.2))
    width = 0.27
    for k, features in enumerate(FEATURES):
        stats = [_mean_std(frame[(frame.model == m) & (frame.features == features)]["test"])
                 for m in models]
        ax.bar(np.arange(len(models)) + (k - 1) * width, [s[0] for s in stats], width,
               yerr=[s[1] for s in stats], capsize=2, label=FEATURE_LABELS[features])
    marked = [(i - width, anchors[m]) for i, m in enumerate(models) if m in anchors]
    if marked:
        ax.plot(*zip(*marked), "kx", linestyle="none", label="published, raw table")
    ax.set_xticks(np.arange(len(models)), models, rotation=30, ha="right")
    ax.set_xlabel("model")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    values = pd.concat([frame["test"].dropna(), pd.Series(list(anchors.values()), dtype=float)])
    if not values.empty:
        low, high = values.min(), values.max()
        pad = 0.1 * (high - low) + 1e-3
        ax.set_ylim(low - pad, high + pad)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


#: Spread (largest over smallest plotted mean) above which the y axis is logarithmic, so that one
#: model far off (a linear model on a handful of labelled rows) does not flatten every other line.
LOG_Y_SPREAD = 3.0


def y_scale(means) -> str:
    """``"log"`` when the positive plotted means spread over more than :data:`LOG_Y_SPREAD`."""
    values = np.asarray([m for m in means if np.isfinite(m)], dtype=float)
    if values.size and values.min() > 0 and values.max() / values.min() > LOG_Y_SPREAD:
        return "log"
    return "linear"


def plot_fractions(frame: pd.DataFrame, *, cells: list[tuple], title: str, ylabel: str,
                   path: Path) -> None:
    """Mean test score against the label fraction (log axis), one line per cell, error bars.

    Parameters
    ----------
    frame : DataFrame
        Results of one dataset.
    cells : list of (model, features)
        The lines, in legend order.
    title, ylabel : str
    path : Path
        PNG file to write.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    plotted = []
    for model, features in cells:
        rows = frame[(frame.model == model) & (frame.features == features)]
        curve = rows.groupby("fraction")["test"].agg(["mean", "std"]).dropna(subset=["mean"])
        if curve.empty:
            continue
        name = model if features == "raw" else f"{model} {FEATURE_LABELS[features]}"
        ax.errorbar(curve.index, curve["mean"], yerr=curve["std"].fillna(0.0), marker="o",
                    capsize=3, label=name, linestyle="-" if model == "finetune" else "--")
        plotted.extend(curve["mean"])
    ax.set_xscale("log")
    ax.set_xlabel("share of labelled train rows (log scale)")
    scale = y_scale(plotted)
    ax.set_yscale(scale)
    if scale == "log":  # plain numbers (0.5, 2), not powers of ten, on both tick levels
        from matplotlib.ticker import FormatStrFormatter

        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_ylabel(ylabel if scale == "linear" else f"{ylabel} (log scale)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
