"""The benchmark's rows: every train row with the unlabelled ones marked for the fine-tuners."""

import numpy as np
import pandas as pd
import pytest

from sklearn_tjepa.bench.data import BenchData, train_rows_marked


def _data(task, target):
    frame = pd.DataFrame({"x": np.arange(6.0)})
    splits = {"train": np.array([0, 2, 3, 5]), "val": np.array([1]), "test": np.array([4])}
    return BenchData(name="toy", code="toy_TY", task=task, frame=frame, target=target,
                     splits=splits, variant={})


@pytest.mark.parametrize(
    ("task", "target", "expected"),
    [
        ("binary", np.array([1, 0, 1, 0, 1, 1]), [1, -1, 0, -1]),
        ("regression", np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0]), [0.5, np.nan, 2.0, np.nan]),
    ],
)
def test_train_rows_marked_keeps_every_train_row_and_marks_the_unlabelled(task, target,
                                                                          expected):
    data = _data(task, target)
    X, y = train_rows_marked(data, np.array([0, 3]))
    assert X["x"].tolist() == [0.0, 2.0, 3.0, 5.0]
    np.testing.assert_array_equal(y, expected)
    assert data.target.tolist() == target.tolist()  # the data's target is left as it was
