"""Tests for sklearn_tjepa.validation: the parameter checks shared by every estimator."""

import pytest
import torch

from sklearn_tjepa.validation import (
    check_bool,
    check_fraction,
    check_int,
    check_option,
    check_rate,
    check_real,
    resolve_device,
)


@pytest.mark.parametrize(
    "check, value, error, match",
    [
        (lambda v: check_int("depth", v), 0, ValueError, r"depth must be a positive int, got depth=0"),
        (lambda v: check_int("depth", v), True, TypeError, r"depth must be a positive int"),
        (lambda v: check_int("depth", v, min_value=2), 1, ValueError, r"depth must be an int >= 2"),
        (lambda v: check_real("lr", v, positive=True), 0.0, ValueError, r"lr must be a positive float"),
        (lambda v: check_real("wd", v), float("inf"), ValueError, r"wd must be a non-negative float"),
        (lambda v: check_real("share", v, max_value=1.0), 1.5, ValueError, r"share must be a float in \[0.0, 1.0\]"),
        (lambda v: check_real("scale", v, min_value=1.0), 0.5, ValueError, r"scale must be a float >= 1.0"),
        (lambda v: check_rate("dropout", v), 1.0, ValueError, r"dropout must be a float in \[0, 1\)"),
        (lambda v: check_option("norm", v, ("pre", "post")), "mid", ValueError, r"norm must be one of \('pre', 'post'\)"),
        (lambda v: check_bool("resume", v), "yes", TypeError, r"resume must be a bool"),
        (lambda v: check_fraction("validation_fraction", v), None, TypeError, r"must be a float in \(0, 1\)"),
        (lambda v: check_fraction("validation_fraction", v, allow_none=True), 1.0, ValueError, r"None or a float"),
    ],
)
def test_checks_name_the_parameter_and_the_expectation(check, value, error, match):
    with pytest.raises(error, match=match):
        check(value)


@pytest.mark.parametrize("value", [1, 64])
def test_check_int_accepts_valid_values(value):
    check_int("d_model", value)


def test_check_fraction_accepts_none_only_when_allowed():
    check_fraction("validation_fraction", None, allow_none=True)
    check_fraction("validation_fraction", 0.2)


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
