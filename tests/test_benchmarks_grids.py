"""The cells of the named grids and their run order."""

import pytest

from sklearn_tjepa.bench.grids import (
    FEW_LABEL_CELLS,
    FEW_LABEL_FRACTIONS,
    GRID_A_MODELS,
    grid_tasks,
    product_tasks,
)
from sklearn_tjepa.bench.models import DEFAULT_MODELS


def _cell(task):
    return task.model, task.features, task.fraction


def test_grid_a_is_every_default_model_on_every_feature_set():
    assert set(GRID_A_MODELS) == set(DEFAULT_MODELS)
    cells = [_cell(t) for t in grid_tasks("A", ["adult"], [0])]
    assert len(cells) == len(set(cells)) == 30
    assert {f for _, f, _ in cells} == {"raw", "tjepa", "untrained"}
    assert {r for _, _, r in cells} == {1.0}


def test_grid_b_runs_five_cells_per_fraction_smallest_fraction_first():
    cells = [_cell(t) for t in grid_tasks("B", ["adult"], [0])]
    assert cells == [(m, f, r) for r in FEW_LABEL_FRACTIONS for m, f in FEW_LABEL_CELLS]
    assert FEW_LABEL_FRACTIONS == (0.01, 0.1, 1.0)
    assert {("finetune", "tjepa"), ("finetune", "untrained"), ("mlp", "raw"),
            ("catboost", "raw"), ("linear", "raw")} == set(FEW_LABEL_CELLS)


def test_grid_target_is_target_aware_fine_tuning_at_grid_b_fractions():
    cells = [_cell(t) for t in grid_tasks("target", ["adult"], [0])]
    assert cells == [("finetune", "target", r) for r in FEW_LABEL_FRACTIONS]
    evidence = [_cell(t) for t in grid_tasks("evidence", ["adult"], [0])]
    assert not set(cells) & set(evidence)


def test_evidence_is_b_then_a_without_duplicates():
    b = [_cell(t) for t in grid_tasks("B", ["adult"], [0])]
    cells = [_cell(t) for t in grid_tasks("evidence", ["adult"], [0])]
    assert cells[:len(b)] == b
    # mlp, catboost and linear on the raw table with all labels are in both grids: once here.
    assert len(cells) == len(set(cells)) == 15 + 30 - 3


def test_seed_order_runs_every_dataset_of_a_seed_before_the_next_seed():
    tasks = grid_tasks("evidence", ["adult", "california"], [0, 1])
    blocks = list(dict.fromkeys((t.seed, t.dataset) for t in tasks))
    assert blocks == [(0, "adult"), (0, "california"), (1, "adult"), (1, "california")]
    tasks = grid_tasks("B", ["adult", "california"], [0, 1], order="dataset")
    blocks = list(dict.fromkeys((t.dataset, t.seed) for t in tasks))
    assert blocks == [("adult", 0), ("adult", 1), ("california", 0), ("california", 1)]


def test_product_gives_finetune_no_raw_cell():
    tasks = product_tasks(["adult"], ["finetune", "mlp"], ["raw", "tjepa"], [1.0], [0])
    assert sorted(_cell(t) for t in tasks) == [
        ("finetune", "tjepa", 1.0), ("mlp", "raw", 1.0), ("mlp", "tjepa", 1.0)]


@pytest.mark.parametrize("call", [lambda: grid_tasks("C", ["adult"], [0]),
                                  lambda: grid_tasks("A", ["adult"], [0], order="model")])
def test_unknown_grid_or_order_is_refused(call):
    with pytest.raises(ValueError, match="must be one of"):
        call()
