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
from sklearn_tjepa.bench.models import DEFAULT_MODELS, MODELS
from sklearn_tjepa.bench.pretrain import FEATURES

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
    run.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=MODELS,
                     metavar="MODEL",
                     help=f"models among {', '.join(MODELS)} (default: all but the fine-tuners)")
    run.add_argument("--features", nargs="+", default=list(FEATURES), choices=FEATURES,
                     help="raw table, T-JEPA embeddings, untrained encoder (default: all)")
    run.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    run.add_argument("--label-fraction", nargs="+", type=_fraction, default=[1.0],
                     dest="fractions", help="shares of labelled train rows (default: 1.0)")
    run.add_argument("--budget", choices=sorted(BUDGETS), default="cpu",
                     help="named limits, see sklearn_tjepa/bench/budgets.py (default: cpu)")
    run.add_argument("--out", type=Path, default=Path("results"))
    run.add_argument("--cache-dir", type=Path, default=None,
                     help="pretraining cache (default: <out>/.cache)")
    run.add_argument("--data-dir", default=None,
                     help="dataset folder (default: SKLEARN_TJEPA_DATA, the shipped copy, download)")
    run.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    report = commands.add_parser("report", help="write docs/benchmarks.md and its plots")
    report.add_argument("--results", type=Path, default=Path("results"))
    report.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit status (1 when a cell failed)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command == "report":
        from sklearn_tjepa.bench.report import write_report

        path = write_report(args.results, args.out)
        print(f"wrote {path}")
        return 0
    from sklearn_tjepa.bench.runner import Settings, plan, run

    if args.jobs < 1:
        raise SystemExit(f"--jobs must be at least 1, got {args.jobs}")
    settings = Settings(
        budget=get_budget(args.budget),
        out=args.out,
        cache_dir=args.cache_dir or args.out / ".cache",
        data_dir=args.data_dir,
        jobs=args.jobs,
        command="python -m benchmarks " + shlex.join(argv),
    )
    tasks = plan(args.datasets, args.models, args.features, args.fractions, args.seeds)
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
