"""Command line of the benchmark: ``run`` the grid, build the ``report``.

Entry points: ``python -m benchmarks`` in a checkout and the console script
``sklearn-tjepa-bench`` of an installed package.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sklearn_tjepa.bench.budgets import BUDGETS, get_budget
from sklearn_tjepa.bench.grids import GRIDS, ORDERS
from sklearn_tjepa.bench.models import DEFAULT_MODELS, FINETUNE_MODELS, MODELS
from sklearn_tjepa.bench.pretrain import FEATURES, TARGET_AWARE

__all__ = ["main"]

_DATASETS = ("adult", "california", "higgs", "jannis")


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"a label fraction must be in (0, 1], got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sklearn-tjepa-bench",
        description="Benchmark T-JEPA embeddings against raw features and an untrained encoder.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the grid (resumable)")
    run.add_argument("--datasets", nargs="+", default=list(_DATASETS),
                     help="dataset names known to load_benchmark (default: %(default)s)")
    run.add_argument("--grid", choices=GRIDS, default=None,
                     help="a named grid instead of --models/--features/--label-fraction: A "
                          "(frozen features), B (few labels), target (B's fractions, fine-tuning "
                          "after target-aware pretraining), evidence (B, then A)")
    run.add_argument("--order", choices=ORDERS, default=None,
                     help="outermost loop: seed (every dataset of a seed before the next seed; "
                          "default with --grid) or dataset (default otherwise)")
    run.add_argument("--models", nargs="+", default=None, choices=MODELS, metavar="MODEL",
                     help=f"models among {', '.join(MODELS)} (default: all but finetune)")
    run.add_argument("--features", nargs="+", default=None, choices=(*FEATURES, TARGET_AWARE),
                     help="raw table, T-JEPA embeddings, untrained encoder (default: these "
                          "three), or target-aware pretraining inside the fit (finetune only)")
    run.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    run.add_argument("--label-fraction", nargs="+", type=_fraction, default=None,
                     dest="fractions", help="shares of labelled train rows (default: 1.0)")
    run.add_argument("--budget", choices=sorted(BUDGETS), default="cpu",
                     help="named limits, see sklearn_tjepa/bench/budgets.py (default: cpu)")
    run.add_argument("--out", type=Path, default=Path("results"))
    run.add_argument("--cache-dir", type=Path, default=None,
                     help="pretraining cache (default: <out>/.cache)")
    run.add_argument("--data-dir", default=None,
                     help="dataset folder (default: SKLEARN_TJEPA_DATA, the shipped copy, download)")
    run.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    run.add_argument("--device", default=None,
                     help="torch device of T-JEPA pretraining and fine-tuning (cpu, cuda, "
                          "cuda:<index>) in place of the budget's; a limit of no cell, so cells "
                          "computed elsewhere stay done (default: the budget's)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.add_argument("--plan", action="store_true",
                     help="print the cells in run order with their status and estimated minutes; "
                          "run nothing")
    run.add_argument("--timings", type=Path, default=None,
                     help="for --plan: JSON of minutes by '<dataset_code>/<cell>', or a results "
                          "folder of timed cells (see docs/benchmarking.md)")
    report = commands.add_parser("report", help="write docs/benchmarks.md and its plots")
    report.add_argument("--results", type=Path, default=Path("results"))
    report.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    report.add_argument("--data-dir", default=None,
                        help="dataset folder, for California's target standard deviation "
                             "(default: SKLEARN_TJEPA_DATA; no download)")
    return parser


def _tasks(args) -> list:
    from sklearn_tjepa.bench.grids import grid_tasks, product_tasks

    if args.grid is not None:
        given = [f"--{name}" for name, value in (("models", args.models),
                 ("features", args.features), ("label-fraction", args.fractions)) if value]
        if given:
            raise SystemExit(f"--grid {args.grid} fixes the cells; drop {' '.join(given)}")
        return grid_tasks(args.grid, args.datasets, args.seeds, order=args.order or "seed")
    models = args.models or list(DEFAULT_MODELS)
    others = [model for model in models if model not in FINETUNE_MODELS]
    if args.features and TARGET_AWARE in args.features and others:
        raise SystemExit(
            f"--features {TARGET_AWARE} is target-aware pretraining inside a fine-tuner's fit: "
            f"run it with --models {' '.join(FINETUNE_MODELS)} only, got --models "
            f"{' '.join(models)}"
        )
    return product_tasks(
        args.datasets,
        models,
        args.features or list(FEATURES),
        args.fractions or [1.0],
        args.seeds,
        order=args.order or "dataset",
    )


def main(argv=None) -> int:
    """Run the command line; return the exit status (1 when a cell failed)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command == "report":
        from sklearn_tjepa.bench.report import write_report

        for path in write_report(args.results, args.out, data_dir=args.data_dir):
            print(f"wrote {path}")
        return 0
    from sklearn_tjepa.bench.runner import Settings, run

    if args.jobs < 1:
        raise SystemExit(f"--jobs must be at least 1, got {args.jobs}")
    settings = Settings(
        budget=get_budget(args.budget),
        out=args.out,
        cache_dir=args.cache_dir or args.out / ".cache",
        data_dir=args.data_dir,
        jobs=args.jobs,
        command="python -m benchmarks " + shlex.join(argv),
        device=args.device,
    )
    tasks = _tasks(args)
    if args.plan:
        from sklearn_tjepa.bench.planning import format_plan, read_timings

        timings = read_timings(args.timings, settings) if args.timings else None
        print(format_plan(tasks, settings, timings))
        return 0
    stats = run(tasks, settings, progress=not args.no_progress)
    print(
        f"{stats['ran']} run, {stats['skipped']} skipped (already done), "
        f"{len(stats['failed'])} failed, {stats['pretrained']} pretrainings, "
        f"{stats['seconds']:.0f} s"
    )
    for task, error in stats["failed"]:
        print(f"FAILED {task.dataset} {task.model}+{task.features} @{task.fraction:g} "
              f"seed {task.seed}: {error.splitlines()[0]}")
    return 1 if stats["failed"] else 0
