"""Tests for sklearn_tjepa.validation: device resolution shared by every estimator."""

import pytest
import torch

from sklearn_tjepa.validation import resolve_device


@pytest.mark.parametrize("device", ["tpu", "cuda:x", 3, "meta"])
def test_resolve_device_rejects_unknown_devices(device):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda'"):
        resolve_device(device)


def test_resolve_device_maps_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_resolve_device_refuses_cuda_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")
