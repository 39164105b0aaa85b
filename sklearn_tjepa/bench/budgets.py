"""Named compute budgets of the benchmark: data subsets, epochs, patience and the T-JEPA size.

``smoke`` runs the whole grid on a few hundred rows in minutes (the tests use it), ``cpu`` is sized
for the project's 2-core machine (the committed figures), ``paper`` follows the published settings
and needs a GPU. A budget only *limits* the per-dataset model configurations of
:func:`~sklearn_tjepa.baselines.load_config`: it caps epochs and patience and may shrink the models for speed; anything it
changes is recorded in every result's ``config``.
The pretraining configuration lives in :attr:`Budget.tjepa` only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["BUDGETS", "Budget", "get_budget"]


@dataclass(frozen=True)
class Budget:
    """Limits applied to every run of one benchmark budget.

    Parameters
    ----------
    name : str
        ``"smoke"``, ``"cpu"`` or ``"paper"``.
    description : str
        One line for the report.
    max_rows : dict of {"train", "val", "test"} -> int or None
        Seeded stratified subsets of each split (the same rows for every seed); None keeps all.
    deep_max_epochs, deep_patience : int
        Caps on the deep baselines' and the fine-tuners' (``finetune``) epochs and
        early-stopping patience (on the val split).
    deep_overrides : dict of str -> dict
        Per deep model, parameters that replace the configuration's (for example smaller widths).
    model_max_epochs : dict of str -> int
        Per deep model (``finetune`` included), the epoch cap in place of ``deep_max_epochs`` /
        ``embedding_max_epochs``: lower for the attention models, whose epochs cost several
        times an MLP's on a CPU, or higher for ``finetune``, whose epochs are one or two
        optimiser steps with 1 % of the labels.
    embedding_max_epochs : int
        Cap on the deep baselines' epochs when they read T-JEPA embeddings.
    gbdt_max_rounds, gbdt_early_stopping_rounds : int
        Cap on the boosting rounds and the early-stopping rounds (on the val split).
    gbdt_overrides : dict of str -> dict
        Per GBDT library, parameters that replace the configuration's.
    linear_C : tuple of float
        Inverse regularisation strengths of the ``linear`` model, chosen on val (``alpha = 1/C``
        for ridge regression).
    tjepa : dict
        :class:`~sklearn_tjepa.TJEPATransformer` parameters of the pretrained encoder, the one
        place that sets it: the +T-JEPA features, the fine-tuners' starting point and the
        untrained control (the same with ``max_epochs=0``) all follow it. The pretraining epoch
        kept is the one with the lowest JEPA loss on the val rows (``eval_set``).
    token_reading : {"per_token", "flatten"}
        How the deep baselines read frozen T-JEPA tokens: each token reduced to one number by a
        learned linear map before the network (the T-JEPA paper's reading on Adult; on
        California its tuned models read a linear map of the flattened tokens) or the flattened
        tokens. GBDTs and the linear model always read the raw columns plus the flattened tokens.
    """

    name: str
    description: str
    max_rows: dict = field(default_factory=dict)
    deep_max_epochs: int = 100
    deep_patience: int = 16
    deep_overrides: dict = field(default_factory=dict)
    model_max_epochs: dict = field(default_factory=dict)
    embedding_max_epochs: int = 100
    gbdt_max_rounds: int = 2000
    gbdt_early_stopping_rounds: int = 50
    gbdt_overrides: dict = field(default_factory=dict)
    linear_C: tuple = (0.01, 0.1, 1.0, 10.0)
    tjepa: dict = field(default_factory=dict)
    token_reading: str = "per_token"

    def as_dict(self) -> dict:
        """All limits as a JSON-ready dict."""
        return asdict(self)


_TINY_DEEP = {
    "mlp": {"n_blocks": 1, "d_block": 16, "d_embedding": 4},
    "resnet": {"n_blocks": 1, "d_block": 16, "d_embedding": 4},
    "ft_transformer": {"n_blocks": 1, "d_block": 16, "attention_n_heads": 2},
    "dcnv2": {"d_block": 16, "n_cross_blocks": 1, "n_deep_blocks": 1, "d_embedding": 4},
    "autoint": {"n_blocks": 1, "d_token": 8, "attention_n_heads": 2},
    "finetune": {"head_d_block": 16},
}

BUDGETS = {
    "smoke": Budget(
        name="smoke",
        description=(
            "Plumbing check, not a measurement: 300/150/300 rows, tiny models, 2 epochs, "
            "20 boosting rounds, a 1-layer T-JEPA of width 8 pretrained 2 epochs."
        ),
        max_rows={"train": 300, "val": 150, "test": 300},
        deep_max_epochs=2,
        deep_patience=1,
        deep_overrides=_TINY_DEEP,
        embedding_max_epochs=2,
        gbdt_max_rounds=20,
        gbdt_early_stopping_rounds=5,
        gbdt_overrides={"catboost": {"depth": 3}},
        linear_C=(1.0,),
        tjepa={
            "d_model": 8,
            "n_layers": 1,
            "n_heads": 2,
            "ffn_dim": 16,
            "predictor_d_model": 8,
            "predictor_n_layers": 1,
            "predictor_n_heads": 2,
            "predictor_ffn_dim": 16,
            "max_epochs": 2,
            "batch_size": 64,
            "device": "cpu",
        },
    ),
    "cpu": Budget(
        name="cpu",
        description=(
            "For a 2-core CPU machine: full splits, tuned configurations with deep epochs capped "
            "(see model_max_epochs) and patience 5, GBDTs as tuned with early stopping; T-JEPA "
            "with the package defaults (width 64, 2 layers) pretrained 10 epochs in float32, "
            "chosen on val among four encoders (docs/pretraining.md); fine-tuning as the "
            "fine-tuners' defaults (patience 8) capped at 60 epochs."
        ),
        max_rows={},
        deep_max_epochs=20,
        deep_patience=5,
        deep_overrides={"finetune": {"patience": 8}},
        model_max_epochs={"resnet": 6, "ft_transformer": 5, "autoint": 10, "finetune": 60},
        embedding_max_epochs=20,
        gbdt_max_rounds=2000,
        gbdt_early_stopping_rounds=50,
        linear_C=(0.01, 0.1, 1.0, 10.0),
        # The package defaults; only what differs from them, and what must not change when they
        # do (the precision the sweep measured), is written out.
        tjepa={"max_epochs": 10, "precision": "32", "device": "cpu"},
    ),
    "paper": Budget(
        name="paper",
        description=(
            "The published settings, for a GPU: tuned configurations without CPU caps (deep "
            "models up to 1000 epochs, patience 16), T-JEPA with a 16-layer encoder and "
            "predictor, batch 512, up to 300 epochs with patience 100."
        ),
        max_rows={},
        deep_max_epochs=1000,
        deep_patience=16,
        embedding_max_epochs=1000,
        gbdt_max_rounds=2000,
        gbdt_early_stopping_rounds=50,
        linear_C=(0.001, 0.01, 0.1, 1.0, 10.0, 100.0),
        tjepa={
            "d_model": 64,
            "n_layers": 16,
            "n_heads": 4,
            "ffn_dim": 256,
            "predictor_d_model": 64,
            "predictor_n_layers": 16,
            "predictor_n_heads": 4,
            "predictor_ffn_dim": 256,
            "max_epochs": 300,
            "batch_size": 512,
            "early_stopping": True,
            "patience": 100,
            "device": "auto",
        },
    ),
}


def get_budget(name: str) -> Budget:
    """The budget called ``name``.

    Parameters
    ----------
    name : {"smoke", "cpu", "paper"}

    Returns
    -------
    budget : Budget
    """
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {sorted(BUDGETS)}, got budget={name!r}")
    return BUDGETS[name]
