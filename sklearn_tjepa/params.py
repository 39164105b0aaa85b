"""Validation of TJEPATransformer's constructor parameters, before any data is touched."""

from __future__ import annotations

import numbers
from typing import Any

from sklearn_tjepa.model.encoder import ACTIVATIONS, NORMS
from sklearn_tjepa.model.jepa import TARGET_NORMS
from sklearn_tjepa.model.predictors import PREDICTORS
from sklearn_tjepa.model.tokenizer import NUMERICAL_EMBEDDINGS
from sklearn_tjepa.preprocessing import NUMERICAL_SCALINGS
from sklearn_tjepa.training.inference import OUTPUTS

__all__ = ["validate_parameters", "PRECISIONS", "BACKENDS", "DATA_PLACEMENTS"]

PRECISIONS = ("32", "bf16")
BACKENDS = ("local", "torchrun")
DATA_PLACEMENTS = ("auto", "always", "never")

# name -> rule. Numbers: (kind, low, high[, ends]) with ends "closed" (default), "left-open",
# "right-open" or "open"; None means unbounded. Options: (_OPTION, allowed strings). Bools: (_BOOL,).
_INT, _FLOAT, _OPTION, _BOOL = "int", "float", "option", "bool"
_RULES: dict[str, tuple] = {
    "d_model": (_INT, 1, None),
    "n_layers": (_INT, 0, None),
    "n_heads": (_INT, 1, None),
    "ffn_dim": (_INT, 1, None),
    "dropout": (_FLOAT, 0.0, 1.0, "right-open"),
    "activation": (_OPTION, tuple(ACTIVATIONS)),
    "norm": (_OPTION, NORMS),
    "n_cls_tokens": (_INT, 1, None),
    "numerical_embedding": (_OPTION, NUMERICAL_EMBEDDINGS),
    "numerical_bins": (_INT, 2, None),
    "feature_index_embedding": (_BOOL,),
    "feature_type_embedding": (_BOOL,),
    "predictor": (_OPTION, PREDICTORS),
    "predictor_d_model": (_INT, 1, None),
    "predictor_n_layers": (_INT, 0, None),
    "predictor_n_heads": (_INT, 1, None),
    "predictor_ffn_dim": (_INT, 1, None),
    "mask_min_ctx_share": (_FLOAT, 0.0, 1.0),
    "mask_max_ctx_share": (_FLOAT, 0.0, 1.0),
    "mask_min_trgt_share": (_FLOAT, 0.0, 1.0),
    "mask_max_trgt_share": (_FLOAT, 0.0, 1.0),
    "mask_num_preds": (_INT, 1, None),
    "mask_num_encs": (_INT, 1, None),
    "target_norm": (_OPTION, TARGET_NORMS),
    "max_epochs": (_INT, 0, None),
    "batch_size": (_INT, 2, None),
    "lr": (_FLOAT, 0.0, None, "left-open"),
    "start_lr": (_FLOAT, 0.0, None),
    "final_lr": (_FLOAT, 0.0, None),
    "warmup_epochs": (_FLOAT, 0.0, None),
    "weight_decay": (_FLOAT, 0.0, None),
    "final_weight_decay": (_FLOAT, 0.0, None),
    "ema_start": (_FLOAT, 0.0, 1.0),
    "ema_end": (_FLOAT, 0.0, 1.0),
    "ipe_scale": (_FLOAT, 1.0, None),
    "numerical_scaling": (_OPTION, NUMERICAL_SCALINGS),
    "output": (_OPTION, OUTPUTS),
    "transform_batch_size": (_INT, 1, None),
    "precision": (_OPTION, PRECISIONS),
    "backend": (_OPTION, BACKENDS),
    "n_procs": (_INT, 1, None),
    "n_nodes": (_INT, 1, None),
    "data_on_device": (_OPTION, DATA_PLACEMENTS),
    "early_stopping": (_BOOL,),
    "validation_fraction": (_FLOAT, 0.0, 1.0, "open"),
    "patience": (_INT, 1, None),
    "checkpoint_every": (_INT, 1, None),
    "resume": (_BOOL,),
    "verbose": (_INT, 0, None),
}


def _check_number(name: str, value: Any, kind: str, low, high, closed: str = "closed") -> None:
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if (kind == _INT and not is_int) or (kind == _FLOAT and not is_real):
        expected = "an int" if kind == _INT else "a float"
        raise TypeError(f"{name} must be {expected}, got {value!r} of type {type(value).__name__}")
    low_ok = low is None or (value > low if closed in ("left-open", "open") else value >= low)
    high_ok = high is None or (value < high if closed in ("right-open", "open") else value <= high)
    if not (low_ok and high_ok):
        left = "(" if closed in ("left-open", "open") else "["
        right = ")" if closed in ("right-open", "open") else "]"
        bounds = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name} must be in {bounds}, got {name}={value!r}")


def _check_rule(name: str, value: Any, rule: tuple) -> None:
    kind = rule[0]
    if kind == _OPTION:
        if not isinstance(value, str) or value not in rule[1]:
            raise ValueError(f"{name} must be one of {list(rule[1])}, got {name}={value!r}")
    elif kind == _BOOL:
        if not isinstance(value, (bool,)) and not (isinstance(value, numbers.Integral) and value in (0, 1)):
            raise TypeError(f"{name} must be a bool, got {value!r}")
    else:
        _check_number(name, value, *rule)


def _check_device(device: Any) -> None:
    if not isinstance(device, str) or not (
        device in ("auto", "cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())
    ):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got device={device!r}")


def validate_parameters(params: dict[str, Any]) -> None:
    """Raise ``ValueError``/``TypeError`` naming the first invalid parameter in ``params``.

    Checks each value's type and range, then the relations between parameters: share ranges
    ordered, ``n_heads`` dividing ``d_model``, ``predictor_n_heads`` dividing
    ``predictor_d_model``, a sane EMA range and a known device.
    """
    for name, rule in _RULES.items():
        value = params[name]
        if name == "numerical_bins" and params["numerical_embedding"] != "piecewise_linear":
            continue
        _check_rule(name, value, rule)
    for kind in ("ctx", "trgt"):
        low, high = params[f"mask_min_{kind}_share"], params[f"mask_max_{kind}_share"]
        if low > high:
            raise ValueError(
                f"mask_min_{kind}_share must not exceed mask_max_{kind}_share, got "
                f"mask_min_{kind}_share={low} > mask_max_{kind}_share={high}"
            )
    if params["mask_num_encs"] * params["mask_min_ctx_share"] + params["mask_min_trgt_share"] > 1.0:
        raise ValueError(
            "The mask shares cannot fit: mask_num_encs * mask_min_ctx_share + mask_min_trgt_share "
            f"= {params['mask_num_encs']} * {params['mask_min_ctx_share']} + "
            f"{params['mask_min_trgt_share']} exceeds 1"
        )
    if params["d_model"] % params["n_heads"]:
        raise ValueError(f"n_heads must divide d_model, got d_model={params['d_model']} and n_heads={params['n_heads']}")
    if params["predictor"] == "transformer" and params["predictor_d_model"] % params["predictor_n_heads"]:
        raise ValueError(
            "predictor_n_heads must divide predictor_d_model, got "
            f"predictor_d_model={params['predictor_d_model']} and predictor_n_heads={params['predictor_n_heads']}"
        )
    if params["ema_start"] > params["ema_end"]:
        raise ValueError(f"ema_start must not exceed ema_end, got ema_start={params['ema_start']} > ema_end={params['ema_end']}")
    if params["grad_clip"] is not None:
        _check_number("grad_clip", params["grad_clip"], _FLOAT, 0.0, None, "left-open")
    _check_device(params["device"])
    if params["callbacks"]:
        if params["backend"] != "local":
            raise ValueError(
                f"callbacks run in the fitting process and need backend='local', got backend={params['backend']!r}"
            )
        for callback in params["callbacks"]:
            if not callable(getattr(callback, "on_epoch_end", None)):
                raise TypeError(f"callbacks must have an on_epoch_end(record, encoder) method, got {callback!r}")
