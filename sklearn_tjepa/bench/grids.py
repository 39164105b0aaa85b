"""The cells of a run, in the order they run: a product of names, or the named grids.

- ``A`` (frozen features): every default model on the raw table, on T-JEPA tokens (``+tjepa``)
  and on the untrained encoder's tokens (``+untrained``), all labels.
- ``B`` (few labels): at each of :data:`FEW_LABEL_FRACTIONS`, ``finetune`` from the pretrained
  and from the untrained encoder, and ``mlp``, ``catboost`` and ``linear`` on the raw table, all
  on the same labelled rows.
- ``target`` (a lever for datasets where ``B`` shows no gain from pretraining): at the same
  fractions and labelled rows, ``finetune`` with target-aware pretraining (``finetune+target``:
  the fine-tuner pretrains on every train row with the labelled rows' labels as one more column).
  Each cell pretrains itself, so it costs one pretraining per cell.
- ``evidence``: ``B`` then ``A`` (a cell in both runs once).

Cells run in blocks of one (dataset, seed): ``order="seed"`` runs every dataset of the first seed
before the next seed (so a stopped run leaves whole seeds), ``order="dataset"`` every seed of the
first dataset before the next dataset. Inside a block the cells keep their listed order: grid B by
label fraction, smallest first, then grid A.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn_tjepa.bench.models import FINETUNE_MODELS
from sklearn_tjepa.bench.pretrain import FEATURES, TARGET_AWARE

__all__ = ["FEW_LABEL_CELLS", "FEW_LABEL_FRACTIONS", "GRID_A_MODELS", "GRIDS", "ORDERS",
           "TARGET_AWARE_CELLS", "Task",
           "grid_tasks", "product_tasks"]

#: Label fractions of grid B.
FEW_LABEL_FRACTIONS = (0.01, 0.1, 1.0)
#: (model, features) of grid B, run on the same labelled rows at each fraction.
FEW_LABEL_CELLS = (
    ("finetune", "tjepa"),
    ("finetune", "untrained"),
    ("catboost", "raw"),
    ("mlp", "raw"),
    ("linear", "raw"),
)
#: (model, features) of grid ``target``, at the fractions and on the labelled rows of grid B.
TARGET_AWARE_CELLS = (("finetune", TARGET_AWARE),)
#: Grid A's models (bench.models.DEFAULT_MODELS), the cheapest on a CPU first.
GRID_A_MODELS = ("linear", "hist_gradient_boosting", "xgboost", "catboost", "lightgbm", "mlp",
                 "dcnv2", "autoint", "resnet", "ft_transformer")
#: Names accepted by ``--grid``.
GRIDS = ("A", "B", "target", "evidence")
#: Names accepted by ``--order``.
ORDERS = ("seed", "dataset")


@dataclass(frozen=True)
class Task:
    """One cell of the grid: a model on one feature set, label fraction, dataset and seed."""

    dataset: str
    seed: int
    features: str
    fraction: float
    model: str


def _cells(grid: str) -> list[tuple[str, str, float]]:
    """(model, features, fraction) of a named grid, in run order within a block."""
    few = [(m, f, r) for r in FEW_LABEL_FRACTIONS for m, f in FEW_LABEL_CELLS]
    frozen = [(m, f, 1.0) for f in FEATURES for m in GRID_A_MODELS]
    if grid == "A":
        return frozen
    if grid == "B":
        return few
    if grid == "target":
        return [(m, f, r) for r in FEW_LABEL_FRACTIONS for m, f in TARGET_AWARE_CELLS]
    if grid == "evidence":
        return few + [cell for cell in frozen if cell not in few]
    raise ValueError(f"grid must be one of {GRIDS}, got grid={grid!r}")


def _ordered(cells, datasets, seeds, order: str) -> list[Task]:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got order={order!r}")
    blocks = (
        [(d, s) for s in seeds for d in datasets]
        if order == "seed"
        else [(d, s) for d in datasets for s in seeds]
    )
    return [Task(dataset=d, seed=int(s), features=f, fraction=float(r), model=m)
            for d, s in blocks for m, f, r in cells]


def grid_tasks(grid: str, datasets, seeds, *, order: str = "seed") -> list[Task]:
    """The cells of a named grid, in run order.

    Parameters
    ----------
    grid : {"A", "B", "target", "evidence"}
    datasets : list of str
    seeds : list of int
    order : {"seed", "dataset"}, default="seed"
        Which loop is outermost (see the module docstring).

    Returns
    -------
    tasks : list of Task
    """
    return _ordered(_cells(grid), list(datasets), list(seeds), order)


def product_tasks(datasets, models, features, fractions, seeds, *,
                  order: str = "dataset") -> list[Task]:
    """Every (dataset, model, features, fraction, seed) given, in run order.

    ``finetune`` gets no raw-feature cell: it starts from the encoder of its feature set.
    Inside a block cells go by feature set, then fraction, then model, as given.
    """
    cells = [(m, f, float(r)) for f in features for r in fractions for m in models
             if m not in FINETUNE_MODELS or f != "raw"]
    return _ordered(cells, list(datasets), list(seeds), order)
