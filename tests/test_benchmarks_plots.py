"""Tests for sklearn_tjepa.bench.plots: the y axis turns logarithmic when one model is far off,
and the few-label plot is written."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from sklearn_tjepa.bench.plots import plot_fractions, y_scale


@pytest.mark.parametrize("means, scale", [
    ([0.43, 0.75, 0.66], "linear"),
    ([0.43, 4.8, 3.6], "log"),  # a ridge on 132 labelled rows beside fine-tuned models
    ([np.nan, 0.5], "linear"),
    ([], "linear"),
    ([-1.0, 5.0], "linear"),  # a log axis needs positive values
])
def test_y_scale(means, scale):
    assert y_scale(means) == scale


def test_plot_fractions_writes_a_png_with_every_line(tmp_path):
    frame = pd.DataFrame({
        "model": ["finetune"] * 4 + ["linear"] * 2,
        "features": ["tjepa"] * 2 + ["untrained"] * 2 + ["raw"] * 2,
        "fraction": [0.01, 0.1] * 3,
        "test": [0.66, 0.57, 0.75, 0.61, 3.6, 4.8],
    })
    path = tmp_path / "fractions.png"
    plot_fractions(frame, cells=[("finetune", "tjepa"), ("finetune", "untrained"), ("linear", "raw")],
                   title="t", ylabel="test RMSE ($100k)", path=path)
    assert path.stat().st_size > 1000
