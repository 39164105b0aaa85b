"""Tests for sklearn_tjepa.training.monitoring's peak-memory measurement, and the per-epoch peak
of ``history_`` that it gives."""

from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_tjepa.training import loop, monitoring
from sklearn_tjepa.training.monitoring import BLOCK, PROCESS, peak_memory, resident_memory_mb

BIG_MB = 256


def _resettable() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


needs_reset = pytest.mark.skipif(not _resettable(), reason="needs Linux's /proc/self/clear_refs")


def _touch_big_array() -> None:
    """Make BIG_MB MiB resident, then free them (the pages go back to the system)."""
    big = np.ones(BIG_MB * 2**20 // 8)
    assert big.sum() > 0
    del big


@pytest.fixture
def no_reset(monkeypatch, tmp_path):
    """A platform whose peak resident memory cannot be reset."""
    monkeypatch.setattr(monitoring, "_CLEAR_REFS", tmp_path / "missing-folder" / "clear_refs")


@needs_reset
def test_a_block_measures_its_own_peak_not_the_earlier_one():
    with peak_memory() as earlier:
        _touch_big_array()
    with peak_memory() as later:
        small = np.ones(2**20)
    assert earlier["scope"] == later["scope"] == BLOCK
    assert earlier["peak_mb"] - later["peak_mb"] > 0.8 * BIG_MB
    assert later["peak_mb"] >= small.nbytes / 2**20


@needs_reset
def test_a_nested_block_does_not_erase_the_peak_of_the_enclosing_one():
    with peak_memory() as outer:
        _touch_big_array()
        with peak_memory() as inner:
            pass
    assert outer["peak_mb"] - inner["peak_mb"] > 0.8 * BIG_MB
    assert monitoring._open_blocks["cpu"] == []


def test_without_a_reset_the_reading_is_the_process_peak_so_far(no_reset):
    with peak_memory() as memory:
        pass
    assert memory["scope"] == PROCESS
    assert memory["peak_mb"] >= resident_memory_mb() * 0.5 > 0


def test_the_block_is_closed_when_it_raises():
    with pytest.raises(RuntimeError, match="inside"):
        with peak_memory() as memory:
            raise RuntimeError("inside")
    assert memory["peak_mb"] > 0 and monitoring._open_blocks["cpu"] == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_block_measures_its_own_allocator_peak():
    with peak_memory("cuda") as earlier:
        big = torch.ones(BIG_MB * 2**20 // 4, device="cuda")
        del big
    with peak_memory("cuda") as later:
        small = torch.ones(2**18, device="cuda")
    assert earlier["scope"] == later["scope"] == BLOCK
    assert earlier["peak_mb"] - later["peak_mb"] > 0.9 * BIG_MB
    assert later["peak_mb"] >= small.nbytes / 2**20


@pytest.fixture
def big_first_epoch(monkeypatch):
    """Make the first batch of the fit allocate BIG_MB MiB for a moment."""
    calls = []
    original = loop.jepa_loss

    def jepa_loss(*args, **kwargs):
        if not calls:
            _touch_big_array()
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(loop, "jepa_loss", jepa_loss)


@needs_reset
def test_history_holds_each_epochs_own_peak(make, X_numeric, big_first_epoch):
    history = make(max_epochs=2).fit(X_numeric).history_
    first, second = (record["peak_memory_mb"] for record in history)
    assert first - second > 0.8 * BIG_MB


def test_history_names_a_process_peak_as_such(make, X_numeric, no_reset):
    history = make(max_epochs=1).fit(X_numeric).history_
    assert "peak_memory_mb" not in history[0] and history[0]["process_peak_memory_mb"] > 0
