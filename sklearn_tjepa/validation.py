"""Device resolution, input tables and targets, and TJEPATransformer's parameter rules.

Three parts, one job: device resolution shared by every estimator; the input table and target
checks of the baselines; and the parameter rules of :class:`~sklearn_tjepa.TJEPATransformer`
(:func:`validate_tjepa_parameters`), which need no data. The scalar checks they build on live in
the leaf module :mod:`sklearn_tjepa._checks`. Every check raises ``TypeError`` for a value of the
wrong type and ``ValueError`` for one of the right type out of range, with a message that names
the parameter, the value received and what was expected, e.g.
``"patience must be a positive int, got patience=0"``.
"""

from __future__ import annotations

import os
import warnings
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_array
from sklearn.utils.validation import column_or_1d, validate_data

from sklearn_tjepa._checks import (
    check_bool,
    check_fraction,
    check_instance,
    check_int,
    check_option,
    check_rate,
    check_real,
    check_seed,
    is_bool,
)
from sklearn_tjepa.callbacks import Callback
from sklearn_tjepa.inference import OUTPUTS
from sklearn_tjepa.model.encoder import ACTIVATIONS, NORMS
from sklearn_tjepa.model.objective import TARGET_NORMS
from sklearn_tjepa.model.predictors import PREDICTORS
from sklearn_tjepa.model.tokenizer import NUMERICAL_EMBEDDINGS
from sklearn_tjepa.precision import PRECISIONS
from sklearn_tjepa.preprocessing import NUMERICAL_SCALINGS

__all__ = [
    "resolve_device",
    "resolve_inference_device",
    "is_dataframe",
    "validate_table",
    "validate_target",
    "check_validation_pair",
    "validate_tjepa_parameters",
    "validate_transform_parameters",
    "validate_partial_fit_parameters",
    "PRECISIONS",
    "CHECKPOINT_SETTINGS",
    "OUTPUT_DTYPES",
    "BACKENDS",
    "DATA_PLACEMENTS",
]


def _parse_device(device) -> torch.device:
    """``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"`` as a torch device."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    message = f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got device={device!r}"
    if not isinstance(device, str):
        raise TypeError(message)
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(message) from exc
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(message)
    return parsed


def resolve_device(device) -> torch.device:
    """Map ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"`` to a torch device.

    ``"auto"`` picks CUDA when it is available. Raises ``TypeError`` for a value that is not a
    str, ``ValueError`` for any other str, and for a CUDA device on a machine without CUDA.
    """
    parsed = _parse_device(device)
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; use 'cpu' or 'auto'")
    return parsed


def resolve_inference_device(device) -> torch.device:
    """Like :func:`resolve_device`, but a CUDA device on a machine without CUDA gives the CPU.

    For embedding with a fitted model: one fitted with ``device="cuda"`` and loaded on a CPU-only
    machine embeds on the CPU, with a ``UserWarning``, instead of failing. A value that is not a
    device still raises (``TypeError`` for a non-str, ``ValueError`` for another str).
    """
    parsed = _parse_device(device)
    if parsed.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"device={device!r} but CUDA is not available on this machine: embedding on the CPU instead "
            "(set device='cpu' or 'auto' to silence this warning)",
            UserWarning,
            stacklevel=4,
        )
        return torch.device("cpu")
    return parsed


def is_dataframe(X) -> bool:
    """Whether ``X`` is a pandas DataFrame or another dataframe-protocol object."""
    return isinstance(X, pd.DataFrame) or (
        hasattr(X, "__dataframe__") and not isinstance(X, np.ndarray)
    )


def validate_table(estimator, X, *, reset: bool):
    """Check ``X`` and record or compare ``n_features_in_`` and ``feature_names_in_``.

    A dataframe is returned unchanged, since its categorical columns are encoded later by
    :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`. Any other input goes through
    :func:`~sklearn.utils.validation.validate_data`, as numbers unless the estimator names
    categorical columns explicitly (then object arrays of strings are kept). NaN is allowed,
    infinity is not.

    Parameters
    ----------
    estimator : estimator
        Holds ``categorical_features``; receives ``n_features_in_`` (and ``feature_names_in_``).
    X : array-like or DataFrame of shape (n_samples, n_features)
    reset : bool
        True in ``fit``, False in prediction.

    Returns
    -------
    X : DataFrame or ndarray
    """
    if is_dataframe(X):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        return X
    spec = estimator.categorical_features
    numeric_only = spec is None or (isinstance(spec, str) and spec == "auto")
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype="numeric" if numeric_only else None,
        ensure_all_finite="allow-nan",
    )


def validate_target(estimator, X, y, *, numeric: bool, allow_nan: bool = False) -> np.ndarray:
    """Check ``y``: present, one-dimensional, finite and as long as ``X``.

    Parameters
    ----------
    estimator : estimator
        Named in the error message when ``y`` is missing.
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    numeric : bool
        Convert ``y`` to numbers (regression) or keep its dtype (class labels).
    allow_nan : bool, default=False
        Accept NaN (a regressor's mark of an unlabelled row); infinity stays an error.

    Returns
    -------
    y : ndarray of shape (n_samples,)
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    y = column_or_1d(y, warn=True)
    y = check_array(
        y,
        ensure_2d=False,
        dtype="numeric" if numeric else None,
        ensure_all_finite="allow-nan" if allow_nan else True,
        input_name="y",
    )
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{[X.shape[0], y.shape[0]]}"
        )
    return y


def check_validation_pair(X_val, y_val) -> None:
    """Raise ``ValueError`` unless ``X_val`` and ``y_val`` are both given or both None."""
    if (X_val is None) != (y_val is None):
        raise ValueError(
            "X_val and y_val must be given together, got "
            f"X_val={'None' if X_val is None else 'an array'} and "
            f"y_val={'None' if y_val is None else 'an array'}"
        )


# ---------------------------------------------------------------- TJEPATransformer's parameters

OUTPUT_DTYPES = ("float64", "float32")
BACKENDS = ("local", "torchrun")
DATA_PLACEMENTS = ("auto", "always", "never")

_non_negative_int = partial(check_int, min_value=0)


def _optional_positive_int(name: str, value) -> None:
    """None or a positive int: ``TypeError`` for another type, ``ValueError`` for an int below 1."""
    if value is None:
        return
    message = f"{name} must be None or a positive int, got {name}={value!r}"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(message)
    if value < 1:
        raise ValueError(message)


_share = partial(check_real, max_value=1.0)


def _options(options):
    return partial(check_option, options=tuple(options))


def _check_precision(name: str, value) -> None:
    """A str of ``PRECISIONS``: ``TypeError`` for another type (e.g. the int 32), ``ValueError`` else."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of the strings {PRECISIONS}, got {name}={value!r} ({type(value).__name__})")
    check_option(name, value, PRECISIONS)


def _check_recompute(name: str, value) -> None:
    """``"auto"`` or a bool, as the other bool parameters take it (:func:`~sklearn_tjepa._checks.is_bool`):
    ``ValueError`` for another str, ``TypeError`` for another type."""
    message = f"{name} must be True, False or 'auto', got {name}={value!r}"
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(message)
    elif not is_bool(value):
        raise TypeError(message)


# name -> check(name, value), each raising TypeError/ValueError that names the parameter.
_TJEPA_RULES = {
    "d_model": check_int,
    "n_layers": _non_negative_int,
    "n_heads": check_int,
    "ffn_dim": check_int,
    "dropout": check_rate,
    "activation": _options(ACTIVATIONS),
    "norm": _options(NORMS),
    "n_cls_tokens": check_int,
    "numerical_embedding": _options(NUMERICAL_EMBEDDINGS),
    "numerical_bins": partial(check_int, min_value=2),
    "feature_index_embedding": check_bool,
    "feature_type_embedding": check_bool,
    "predictor": _options(PREDICTORS),
    "predictor_d_model": check_int,
    "predictor_n_layers": _non_negative_int,
    "predictor_n_heads": check_int,
    "predictor_ffn_dim": check_int,
    "mask_min_context_share": _share,
    "mask_max_context_share": _share,
    "mask_min_target_share": _share,
    "mask_max_target_share": _share,
    "n_target_sets": check_int,
    "n_context_sets": check_int,
    "target_norm": _options(TARGET_NORMS),
    "missing_share": check_rate,
    "variance_weight": check_real,
    "covariance_weight": check_real,
    "max_epochs": _non_negative_int,
    "batch_size": partial(check_int, min_value=2),
    "lr": partial(check_real, positive=True),
    "start_lr": check_real,
    "final_lr": check_real,
    "warmup_epochs": check_real,
    "weight_decay": check_real,
    "final_weight_decay": check_real,
    "ema_start": _share,
    "ema_end": _share,
    "ema_horizon_scale": partial(check_real, min_value=1.0),
    "numerical_scaling": _options(NUMERICAL_SCALINGS),
    "output": _options(OUTPUTS),
    "transform_batch_size": check_int,
    "output_dtype": _options(OUTPUT_DTYPES),
    "precision": _check_precision,
    "recompute": _check_recompute,
    "backend": _options(BACKENDS),
    "n_procs": check_int,
    "n_nodes": check_int,
    "data_on_device": _options(DATA_PLACEMENTS),
    "early_stopping": check_bool,
    "validation_fraction": check_fraction,
    "patience": check_int,
    "checkpoint_every": check_int,
    "resume": check_bool,
    "checkpoint_every_rows": _optional_positive_int,
    "partial_fit_rows": _optional_positive_int,
    "preprocessing_sample_rows": partial(check_int, min_value=2),
    "shuffle_buffer_rows": check_int,
    "verbose": _non_negative_int,
    "checkpoint_dir": partial(
        check_instance, types=(type(None), str, os.PathLike), expected="None, a str or a path"
    ),
    "rdzv_endpoint": partial(check_instance, types=(type(None), str), expected="None or a 'host:port' str"),
    "callbacks": partial(
        check_instance, types=(type(None), list, tuple), expected="None or a list of Callback instances"
    ),
    "random_state": check_seed,
}


#: The checkpoint settings that act only with a ``checkpoint_dir``, with their values that ask for
#: no checkpoint (the estimator's defaults).
CHECKPOINT_SETTINGS = {"checkpoint_every": 1, "checkpoint_every_rows": None}


def _check_ordered(params: dict[str, Any], low: str, high: str) -> None:
    if params[low] > params[high]:
        raise ValueError(f"{low} must not exceed {high}, got {low}={params[low]} > {high}={params[high]}")


def _check_divides(params: dict[str, Any], heads: str, width: str) -> None:
    if params[width] % params[heads]:
        raise ValueError(f"{heads} must divide {width}, got {width}={params[width]} and {heads}={params[heads]}")


def validate_tjepa_parameters(params: dict[str, Any]) -> None:
    """Raise ``ValueError``/``TypeError`` naming the first invalid parameter of TJEPATransformer.

    Checks each value's type and range, then the relations that need no data: share ranges
    ordered, ``n_heads`` dividing ``d_model``, ``predictor_n_heads`` dividing
    ``predictor_d_model`` and at least one predictor block for the transformer predictor, an
    ordered EMA range, a ``checkpoint_dir`` for ``resume`` and for ``checkpoint_every`` or
    ``checkpoint_every_rows`` set to write checkpoints, a known device and callbacks that
    derive from :class:`~sklearn_tjepa.callbacks.Callback` (with ``backend="local"``). Whether
    the mask shares fit the table's ``D`` features is checked by
    :class:`~sklearn_tjepa.model.MaskSampler` at fit time.

    Parameters
    ----------
    params : dict
        ``estimator.get_params(deep=False)``.
    """
    for name, rule in _TJEPA_RULES.items():
        if name == "numerical_bins" and params["numerical_embedding"] != "piecewise_linear":
            continue
        rule(name, params[name])
    for kind in ("context", "target"):
        _check_ordered(params, f"mask_min_{kind}_share", f"mask_max_{kind}_share")
    _check_divides(params, "n_heads", "d_model")
    if params["predictor"] == "transformer":
        _check_divides(params, "predictor_n_heads", "predictor_d_model")
        if params["predictor_n_layers"] == 0:  # its mask tokens would never attend to the context
            raise ValueError(
                "predictor_n_layers must be a positive int with predictor='transformer' (without a block "
                "the mask tokens never see the context), got predictor_n_layers=0"
            )
    if params["resume"] and params["checkpoint_dir"] is None:
        raise ValueError("resume=True needs a checkpoint_dir to resume from, got checkpoint_dir=None")
    for name, off in CHECKPOINT_SETTINGS.items():
        if params["checkpoint_dir"] is None and params[name] != off:
            raise ValueError(
                f"{name}={params[name]!r} needs a checkpoint_dir to write checkpoints to, got checkpoint_dir=None "
                f"(without checkpoints, leave {name}={off!r})"
            )
    _check_ordered(params, "ema_start", "ema_end")
    if params["grad_clip"] is not None:
        check_real("grad_clip", params["grad_clip"], positive=True)
    resolve_device(params["device"])
    if params["callbacks"]:
        _check_callbacks(params["callbacks"], params["backend"])


def _check_callbacks(callbacks, backend: str) -> None:
    if backend != "local":
        raise ValueError(f"callbacks run in the fitting process and need backend='local', got backend={backend!r}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks must be instances of sklearn_tjepa.callbacks.Callback, got {callback!r}"
            )


#: The parameters that ``transform`` uses, checked again there (``set_params`` after ``fit``).
_TRANSFORM_PARAMETERS = ("output", "output_dtype", "transform_batch_size", "precision")


def validate_transform_parameters(params: dict[str, Any]) -> torch.device:
    """Check the parameters ``transform`` uses and return the device to embed on.

    ``output``, ``output_dtype``, ``transform_batch_size`` and ``precision`` are checked as in
    ``fit`` (they may have been changed by ``set_params`` since); ``device`` is resolved by
    :func:`resolve_inference_device`, so a CUDA device on a machine without CUDA gives the CPU
    with a warning.

    Parameters
    ----------
    params : dict
        ``estimator.get_params(deep=False)``.

    Returns
    -------
    torch.device
    """
    for name in _TRANSFORM_PARAMETERS:
        _TJEPA_RULES[name](name, params[name])
    return resolve_inference_device(params["device"])


def validate_partial_fit_parameters(params: dict[str, Any]) -> None:
    """Check what :meth:`~sklearn_tjepa.TJEPATransformer.partial_fit` needs beyond ``fit``.

    It trains in the calling process (``backend="local"``) and its schedules span
    ``max_epochs`` epochs (at least 1). Call it after :func:`validate_tjepa_parameters`, which
    checks ``partial_fit_rows`` with the other parameters.

    Parameters
    ----------
    params : dict
        ``estimator.get_params(deep=False)``.
    """
    if params["backend"] != "local":
        raise ValueError(f"partial_fit trains in this process and needs backend='local', got backend={params['backend']!r}")
    if params["max_epochs"] == 0:
        raise ValueError(
            "partial_fit needs max_epochs >= 1 (its schedules span max_epochs epochs of partial_fit_rows rows), "
            "got max_epochs=0"
        )
