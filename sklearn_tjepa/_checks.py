"""Scalar parameter checks shared by every estimator and callback.

A leaf module: it imports nothing from the package, so any module (callbacks included) can use it.
Each check raises ``TypeError`` for a value of the wrong type and ``ValueError`` for a value of the
right type that is out of range, with a message that names the parameter, what was expected and
the value received, e.g. ``"patience must be a positive int, got patience=0"``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = [
    "check_int",
    "check_real",
    "check_rate",
    "check_option",
    "is_bool",
    "check_bool",
    "check_fraction",
    "check_multiplier",
    "check_instance",
    "check_seed",
]


def check_int(name: str, value, *, min_value: int = 1) -> None:
    """Raise unless ``value`` is an int (not a bool) of at least ``min_value``."""
    kind = {0: "a non-negative int", 1: "a positive int"}.get(min_value, f"an int >= {min_value}")
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be {kind}, got {name}={value!r}")
    if value < min_value:
        raise ValueError(f"{name} must be {kind}, got {name}={value!r}")


def check_real(name: str, value, *, positive: bool = False, min_value: float = 0.0, max_value: float | None = None) -> None:
    """Raise unless ``value`` is a finite real in ``[min_value, max_value]`` (``> 0`` if ``positive``)."""
    if max_value is not None:
        kind = f"a float in [{min_value}, {max_value}]"
    elif positive:
        kind = "a positive float"
    else:
        kind = "a non-negative float" if min_value == 0 else f"a float >= {min_value}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be {kind}, got {name}={value!r}")
    too_high = max_value is not None and value > max_value
    if not math.isfinite(value) or value < min_value or (positive and value <= 0) or too_high:
        raise ValueError(f"{name} must be {kind}, got {name}={value!r}")


def check_rate(name: str, value) -> None:
    """Raise unless ``value`` is a dropout-like rate in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a float in [0, 1), got {name}={value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in [0, 1), got {name}={value!r}")


def check_option(name: str, value, options) -> None:
    """Raise unless ``value`` is one of the strings ``options``."""
    message = f"{name} must be one of {tuple(options)}, got {name}={value!r}"
    if not isinstance(value, str):
        raise TypeError(message)
    if value not in options:
        raise ValueError(message)


def is_bool(value) -> bool:
    """Whether ``value`` stands for a bool: a Python or NumPy bool, or the int 0 or 1."""
    return isinstance(value, (bool, np.bool_)) or (isinstance(value, Integral) and value in (0, 1))


def check_bool(name: str, value) -> None:
    """Raise ``TypeError`` unless ``value`` stands for a bool (see :func:`is_bool`)."""
    if not is_bool(value):
        raise TypeError(f"{name} must be a bool, got {name}={value!r}")


def check_fraction(name: str, value, *, allow_none: bool = False) -> None:
    """Raise unless ``value`` is a float in ``(0, 1)`` (or None when ``allow_none``)."""
    if value is None and allow_none:
        return
    expected = "None or a float in (0, 1)" if allow_none else "a float in (0, 1)"
    message = f"{name} must be {expected}, got {name}={value!r}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(message)
    if not 0 < value < 1:
        raise ValueError(message)


def check_multiplier(name: str, value, base: int) -> None:
    """Raise unless ``value`` is a positive float with ``int(base * value) >= 1``."""
    check_real(name, value, positive=True)
    if int(base * value) < 1:
        raise ValueError(
            f"{name} times the block width must give at least 1 unit, got {name}={value!r} "
            f"for a width of {base}"
        )


def check_instance(name: str, value, types, expected: str) -> None:
    """Raise ``TypeError`` unless ``value`` is an instance of ``types``, described by ``expected``."""
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {expected}, got {name}={value!r}")


def check_seed(name: str, value) -> None:
    """Raise unless ``value`` is None, an int in ``[0, 2**32)`` or a ``numpy.random.RandomState``.

    These are what :func:`sklearn.utils.check_random_state` turns into a random state.
    """
    expected = "None, an int in [0, 2**32) or a numpy RandomState"
    check_instance(name, value, (type(None), Integral, np.random.RandomState), expected)
    if isinstance(value, bool):
        raise TypeError(f"{name} must be {expected}, got {name}={value!r}")
    if isinstance(value, Integral) and not 0 <= value < 2**32:
        raise ValueError(f"{name} must be {expected}, got {name}={value!r}")
