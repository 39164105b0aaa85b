"""Tests for TJEPATransformer.fit on a Parquet dataset: preprocessing from a bounded sample,
every row once per epoch in windows, resuming within an epoch, and bad files."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import torch
from conftest import make_mixed_frame

from sklearn_tjepa import precision
from sklearn_tjepa.callbacks import Callback
from sklearn_tjepa.streaming.rows import ParquetRows
from sklearn_tjepa.training import loop
from sklearn_tjepa.training.checkpoints import load_checkpoint

N_ROWS = 150


def _write(path, frame, row_group_size=20):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return str(path)


@pytest.fixture
def frame():
    return make_mixed_frame(n_rows=N_ROWS, with_missing=True)


@pytest.fixture
def files(tmp_path, frame):
    (tmp_path / "data").mkdir()
    return [_write(tmp_path / "data" / f"part{i}.parquet", frame.iloc[i * 50 : (i + 1) * 50]) for i in range(3)]


@pytest.fixture
def make_streamed(make):
    """Tiny estimators (batches of 32 rows) with windows of 64 rows: 3 windows per epoch of the
    150 rows, of 2, 2 and 1 batches."""

    def factory(**overrides):
        return make(**{"shuffle_buffer_rows": 64, **overrides})

    return factory


class _NoTraining(Callback):
    def on_train_begin(self, est):
        raise AssertionError("training started before the files were checked")


def test_fit_from_directory_list_and_dataset_alike(make_streamed, files, tmp_path, frame):
    by_list = make_streamed().fit(files)
    out = by_list.transform(frame)
    assert out.shape == (N_ROWS, 7 * 8) and np.isfinite(out).all()
    assert list(by_list.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(make_streamed().fit(tmp_path / "data").transform(frame), out)
    np.testing.assert_array_equal(make_streamed().fit(ds.dataset(files, format="parquet")).transform(frame), out)
    assert [h["loss"] for h in by_list.history_] == [h["loss"] for h in make_streamed().fit(files).history_]


@pytest.mark.parametrize("native", [True, False])
def test_precision_recompute_and_history_as_in_memory(monkeypatch, make_streamed, files, frame, native):
    monkeypatch.setattr(precision, "native_bf16", lambda device: native)
    streamed = make_streamed(precision="auto", recompute=True).fit(files)
    in_memory = make_streamed(precision="auto", recompute=True).fit(frame)
    assert (streamed.precision_, streamed.recompute_) == (in_memory.precision_, True)
    assert streamed.precision_ == ("bf16" if native else "32") == streamed.history_[0]["precision"]
    assert streamed.history_[0].keys() == in_memory.history_[0].keys()


def test_dataset_schema_selects_the_feature_columns(make_streamed, files, frame):
    schema = pa.schema([("age", pa.float64()), ("city", pa.string())])
    est = make_streamed().fit(ds.dataset(files, format="parquet", schema=schema))
    assert list(est.feature_names_in_) == ["age", "city"]
    assert est.transform(frame[["age", "city"]]).shape == (N_ROWS, 3 * 8)


def test_preprocessing_from_the_sample(make_streamed, files, frame):
    whole = make_streamed().fit(files)  # the default sample holds every row
    in_memory = make_streamed().fit(pd.read_parquet(files))
    for streamed, held in zip(whole.preprocessor_.categories_, in_memory.preprocessor_.categories_):
        np.testing.assert_array_equal(streamed, held)
    np.testing.assert_array_equal(whole.preprocessor_.scaler_.quantiles_, in_memory.preprocessor_.scaler_.quantiles_)
    bounded = make_streamed(preprocessing_sample_rows=40).fit(files)
    assert bounded.preprocessor_.scaler_.n_quantiles_ == 40


def test_each_epoch_trains_on_every_row_once_window_by_window(make_streamed, files, frame, recorded_batches, monkeypatch):
    windows = []
    read_window = ParquetRows.read_window

    def recording(self, *args):
        table = read_window(self, *args)
        windows.append(len(table))
        return table

    monkeypatch.setattr(ParquetRows, "read_window", recording)
    est = make_streamed(max_epochs=2).fit(files)
    assert windows == [64, 64, 22] * 2  # only one window of rows is encoded at a time
    encoded = est.preprocessor_.transform(frame).x_num
    for epoch in range(2):
        batches = recorded_batches["train"][epoch * 5 : (epoch + 1) * 5]
        assert [len(b) for b in batches] == [32, 32, 32, 32, 22]
        trained = torch.cat(batches).numpy()
        assert sorted(map(tuple, np.nan_to_num(trained, nan=-9))) == sorted(map(tuple, np.nan_to_num(encoded, nan=-9)))
    first, second = (torch.cat(recorded_batches["train"][e * 5 : e * 5 + 2]) for e in range(2))
    assert not torch.equal(first, second)  # a new order every epoch


class _StopAtWindow:
    """Make loop.train_pass raise KeyboardInterrupt on its ``at``-th call (a kill mid-epoch)."""

    def __init__(self, monkeypatch, at):
        self.calls, self.at = 0, at
        self.train_pass = loop.train_pass
        monkeypatch.setattr(loop, "train_pass", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt(f"killed in window {self.at}")
        return self.train_pass(*args, **kwargs)


def test_killed_fit_resumes_within_the_epoch_bit_identically(make_streamed, files, frame, tmp_path, monkeypatch):
    params = dict(max_epochs=2, dropout=0.1)
    uninterrupted = make_streamed(**params).fit(files)
    params.update(checkpoint_every_rows=60)
    stopper = _StopAtWindow(monkeypatch, at=6)  # epoch 2, third window: checkpoint after its second
    with pytest.raises(KeyboardInterrupt):
        make_streamed(**params, checkpoint_dir=tmp_path / "ckpt").fit(files)
    state = load_checkpoint(tmp_path / "ckpt")
    assert (state["epoch"], state["position"], state["partial"]["steps"]) == (1, 2, 4)
    monkeypatch.setattr(loop, "train_pass", stopper.train_pass)
    windows = []
    read_window = ParquetRows.read_window
    monkeypatch.setattr(ParquetRows, "read_window", lambda self, *a: windows.append(a) or read_window(self, *a))
    resumed = make_streamed(**params, checkpoint_dir=tmp_path / "ckpt", resume=True).fit(files)
    assert windows == [(1, 0, 1, 2)]  # only the window after the checkpoint is read again
    np.testing.assert_array_equal(resumed.transform(frame), uninterrupted.transform(frame))
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in uninterrupted.history_]


def test_file_that_disappears_mid_epoch_is_named_and_the_checkpoint_kept(make_streamed, files, frame, tmp_path, monkeypatch):
    params = dict(max_epochs=2, checkpoint_every_rows=60)
    read_window = ParquetRows.read_window

    def vanishing(self, epoch, rank, world_size, window):
        if (epoch, window) == (1, 1):
            for path in files:
                (tmp_path / "data" / path.rsplit("/", 1)[-1]).rename(tmp_path / (path.rsplit("/", 1)[-1] + ".moved"))
        return read_window(self, epoch, rank, world_size, window)

    monkeypatch.setattr(ParquetRows, "read_window", vanishing)
    with pytest.raises(FileNotFoundError, match=r"The Parquet file '.*part\d\.parquet' disappeared"):
        make_streamed(**params, checkpoint_dir=tmp_path / "ckpt").fit(files)
    state = load_checkpoint(tmp_path / "ckpt")  # intact: the one written after the first window of epoch 2
    assert (state["epoch"], state["position"]) == (1, 1)
    monkeypatch.undo()
    for path in files:
        (tmp_path / (path.rsplit("/", 1)[-1] + ".moved")).rename(path)
    resumed = make_streamed(**params, checkpoint_dir=tmp_path / "ckpt", resume=True).fit(files)
    uninterrupted = make_streamed(max_epochs=2).fit(files)
    np.testing.assert_array_equal(resumed.transform(frame), uninterrupted.transform(frame))


def test_resume_with_another_window_is_refused(make_streamed, files, tmp_path):
    make_streamed(max_epochs=1, checkpoint_dir=tmp_path / "ckpt").fit(files)
    with pytest.raises(ValueError, match=r"window_rows \(the rows shuffled together.*64 -> 32"):
        make_streamed(max_epochs=2, checkpoint_dir=tmp_path / "ckpt", resume=True, shuffle_buffer_rows=32).fit(files)


@pytest.mark.parametrize(
    "change,error,match",
    [
        (lambda f: f.drop(columns="city"), ValueError, r"The Parquet file '.*bad\.parquet' has no column 'city'"),
        (lambda f: f.assign(age=f["age"].astype(str)), ValueError, r"column 'age' of the Parquet file '.*bad\.parquet' has type string"),
        (lambda f: f.iloc[:0], ValueError, r"The Parquet file '.*bad\.parquet' holds no rows"),
    ],
    ids=["missing column", "changed type", "empty file"],
)
def test_bad_files_are_named_before_training(make_streamed, files, frame, tmp_path, change, error, match):
    bad = _write(tmp_path / "bad.parquet", change(frame.iloc[:10]))
    with pytest.raises(error, match=match):
        make_streamed(callbacks=[_NoTraining()]).fit([*files, bad])


def test_eval_set_y_and_early_stopping(make_streamed, files, frame):
    est = make_streamed().fit(files, eval_set=frame.iloc[:40])
    assert all(np.isfinite(h["valid_loss"]) for h in est.history_)
    with pytest.raises(ValueError, match="takes no y"):
        make_streamed().fit(files, np.zeros(N_ROWS))
    with pytest.raises(ValueError, match="early_stopping on a Parquet dataset needs eval_set"):
        make_streamed(early_stopping=True).fit(files)
