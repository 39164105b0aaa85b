"""Validation of TJEPATransformer's constructor parameters, before any data is touched."""

from __future__ import annotations

from functools import partial
from typing import Any

from sklearn_tjepa.model.encoder import ACTIVATIONS, NORMS
from sklearn_tjepa.model.jepa import TARGET_NORMS
from sklearn_tjepa.model.predictors import PREDICTORS
from sklearn_tjepa.model.tokenizer import NUMERICAL_EMBEDDINGS
from sklearn_tjepa.preprocessing import NUMERICAL_SCALINGS
from sklearn_tjepa.inference import OUTPUTS
from sklearn_tjepa.validation import (
    check_bool,
    check_int,
    check_option,
    check_rate,
    check_real,
    check_fraction,
    resolve_device,
)

__all__ = ["validate_parameters", "PRECISIONS", "BACKENDS", "DATA_PLACEMENTS"]

PRECISIONS = ("32", "bf16")
BACKENDS = ("local", "torchrun")
DATA_PLACEMENTS = ("auto", "always", "never")

_int = check_int
_non_negative_int = partial(check_int, min_value=0)
_share = partial(check_real, max_value=1.0)
_positive = partial(check_real, positive=True)


def _options(options):
    return partial(check_option, options=tuple(options))


# name -> check(name, value), each raising TypeError/ValueError that names the parameter.
_RULES = {
    "d_model": _int,
    "n_layers": _non_negative_int,
    "n_heads": _int,
    "ffn_dim": _int,
    "dropout": check_rate,
    "activation": _options(ACTIVATIONS),
    "norm": _options(NORMS),
    "n_cls_tokens": _int,
    "numerical_embedding": _options(NUMERICAL_EMBEDDINGS),
    "numerical_bins": partial(check_int, min_value=2),
    "feature_index_embedding": check_bool,
    "feature_type_embedding": check_bool,
    "predictor": _options(PREDICTORS),
    "predictor_d_model": _int,
    "predictor_n_layers": _non_negative_int,
    "predictor_n_heads": _int,
    "predictor_ffn_dim": _int,
    "mask_min_ctx_share": _share,
    "mask_max_ctx_share": _share,
    "mask_min_trgt_share": _share,
    "mask_max_trgt_share": _share,
    "mask_num_preds": _int,
    "mask_num_encs": _int,
    "target_norm": _options(TARGET_NORMS),
    "max_epochs": _non_negative_int,
    "batch_size": partial(check_int, min_value=2),
    "lr": _positive,
    "start_lr": check_real,
    "final_lr": check_real,
    "warmup_epochs": check_real,
    "weight_decay": check_real,
    "final_weight_decay": check_real,
    "ema_start": _share,
    "ema_end": _share,
    "ipe_scale": partial(check_real, min_value=1.0),
    "numerical_scaling": _options(NUMERICAL_SCALINGS),
    "output": _options(OUTPUTS),
    "transform_batch_size": _int,
    "precision": _options(PRECISIONS),
    "backend": _options(BACKENDS),
    "n_procs": _int,
    "n_nodes": _int,
    "data_on_device": _options(DATA_PLACEMENTS),
    "early_stopping": check_bool,
    "validation_fraction": check_fraction,
    "patience": _int,
    "checkpoint_every": _int,
    "resume": check_bool,
    "verbose": _non_negative_int,
}


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
        rule(name, value)
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
        check_real("grad_clip", params["grad_clip"], positive=True)
    resolve_device(params["device"])
    if params["callbacks"]:
        if params["backend"] != "local":
            raise ValueError(
                f"callbacks run in the fitting process and need backend='local', got backend={params['backend']!r}"
            )
        for callback in params["callbacks"]:
            if not callable(getattr(callback, "on_epoch_end", None)):
                raise TypeError(f"callbacks must have an on_epoch_end(record, encoder) method, got {callback!r}")
