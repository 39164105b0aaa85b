"""Build ``docs/benchmarks.md``, its verdict table and its PNG plots from the result files.

Every figure of ours is recomputed from the ``<results>/<dataset_code>/<cell>/output_<seed>.json``
files present (a missing seed lowers ``n``; a missing cell shows as *missing*): scores (mean ±
sample standard deviation over seeds), epochs or rounds run against their caps, paired
differences over seeds (:mod:`~sklearn_tjepa.bench.paired`), budgets, machines, commands and
times. The published anchors come from :mod:`~sklearn_tjepa.bench.reference`; California's
standardised ones are converted with the standard deviation of our California target, read from
the data. The verdict table is also written on its own (``<name>_verdict.md``) for README.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_tjepa.baselines import GBDT_NAMES
from sklearn_tjepa.bench.grids import (FEW_LABEL_CELLS, FEW_LABEL_FRACTIONS, GRID_A_MODELS,
                                       TARGET_AWARE_CELLS)
from sklearn_tjepa.bench.paired import best_by_val, paired_difference, verdict
from sklearn_tjepa.bench.plots import FEATURE_LABELS, axis_label, plot_fractions, plot_models
from sklearn_tjepa.bench.pretrain import FEATURES, TARGET_AWARE
from sklearn_tjepa.bench.reference import (
    SOURCES,
    TARGET_UNITS,
    anchors_for,
    in_our_units,
)
from sklearn_tjepa.bench.results import MAIN_METRIC, PROTOCOL, run_name

__all__ = ["load_results", "target_std", "write_report"]

_MISSING = "missing"
_METRIC_NAMES = {"accuracy": "accuracy", "rmse": "RMSE"}
_NOT_COMPARABLE_SPLIT = (
    "not comparable: our rows are a seeded re-split of the benchmark's val and test subsets"
)


def _fit_columns(fit: dict | None) -> dict:
    fit = fit or {}
    return {
        "fit_unit": fit.get("unit"),
        "fit_run": fit.get("run", np.nan),
        "fit_cap": fit.get("cap", np.nan),
        "fit_best": np.nan if fit.get("best") is None else fit["best"],
        "ended_by": fit.get("ended_by"),
    }


def load_results(results_dir) -> pd.DataFrame:
    """One row per output file (the cache folder skipped), with the main scores flattened."""
    rows = []
    for path in sorted(Path(results_dir).glob("*/*/output_*.json")):
        record = json.loads(path.read_text())
        metric = MAIN_METRIC[record["task"]]
        ok = record["status"] == "ok"
        config = record.get("config") or {}
        rows.append(
            {
                "code": record["dataset_code"],
                "name": record["dataset"],
                "task": record["task"],
                "model": record["model"],
                "features": record["features"],
                "fraction": record["label_fraction"],
                "seed": record["seed"],
                "status": record["status"],
                "protocol": record.get("protocol", 1),
                "error": (record.get("error") or "").splitlines()[0] if not ok else "",
                "metric": metric,
                "test": record["test"][metric] if ok else np.nan,
                "val": record["val"][metric] if ok else np.nan,
                "reads": config.get("reads"),
                "n_labelled": record.get("n_labelled", np.nan),
                **_fit_columns(record.get("fit") if ok else None),
                "budget": record["budget"],
                "partial": record["data"]["partial"],
                "rows": record["data"]["rows"],
                "subset_by_budget": record["data"].get("subset_by_budget", False),
                "fit_s": record["seconds"]["fit"] if ok else np.nan,
                "pretraining_s": record["seconds"]["pretraining"] if ok else np.nan,
                "inference_s": record["seconds"]["inference"] if ok else np.nan,
                "cpu_s": sum(record["cpu_seconds"][k] for k in ("fit", "inference"))
                if ok else np.nan,
                "pretraining_cpu_s": record["cpu_seconds"]["pretraining"] if ok else np.nan,
                "pretraining": record.get("pretraining"),
                "command": record["command"],
                "machine": record["environment"]["machine"],
                "commit": record["environment"]["git"]["commit"],
                "finished": record["finished"],
            }
        )
    return pd.DataFrame(rows)


def target_std(name: str, data_dir=None) -> float | None:
    """Standard deviation (``ddof=0``) of a regression target over all rows of the dataset.

    None when the data cannot be read without downloading (the report then shows standardised
    anchors without conversion).
    """
    from sklearn_tjepa.datasets import load_benchmark

    try:
        bunch = load_benchmark(name, data_dir=data_dir, download=False)
    except (OSError, ValueError):
        return None
    return float(np.std(bunch.target.to_numpy(dtype=float)))


# -- formatting --------------------------------------------------------------------------------


def _fraction_text(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _cell_text(cell: tuple) -> str:
    model, features, fraction = cell
    name = run_name(model, features, 1.0)
    return name if fraction == 1.0 else f"{name} at {_fraction_text(fraction)}"


def _chosen(frame: pd.DataFrame, cell: tuple | None) -> str:
    """A cell chosen on val and its test score: ``"finetune+tjepa at 1%: 0.8000 ± ... (n=3)"``."""
    if cell is None:
        return _MISSING
    model, features, fraction = cell
    rows = frame[(frame.model == model) & (frame.features == features)
                 & (frame.fraction == fraction) & (frame.status == "ok")]
    return f"{_cell_text(cell)}: {_fmt(rows['test'])}"


def _fmt(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return _MISSING
    if values.size == 1:
        return f"{values.iloc[0]:.4f} (n=1)"
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f} (n={values.size})"


def _fmt_diff(difference: dict | None) -> str:
    if difference is None:
        return _MISSING
    se = "" if difference["se"] is None else f" ± {difference['se']:.4f}"
    return f"{difference['mean']:+.4f}{se} (n={difference['n']})"


def _extent(rows: pd.DataFrame) -> tuple[str, str]:
    """``("12.3 / 20 epochs, best 10.0", "1 of 3")`` for the finished seeds of one cell."""
    if rows.empty:
        return "–", "–"
    fits = rows[rows["fit_unit"].notna()]
    if fits.empty:
        return "not recorded", "–"
    unit = fits["fit_unit"].iloc[0]
    best = fits["fit_best"].dropna()
    text = f"{fits['fit_run'].mean():.1f} / {fits['fit_cap'].max():.0f} {unit}"
    if not best.empty:
        text += f", best {best.mean():.1f}"
    return text, f"{int((fits['ended_by'] == 'cap').sum())} of {len(fits)}"


def _reads(rows: pd.DataFrame) -> str:
    reads = sorted({r for r in rows["reads"].dropna()})
    return "; ".join(reads) if reads else ("not recorded" if not rows.empty else "–")


def _cells_table(frame: pd.DataFrame, cells: list[tuple], *, fractions: bool) -> list[str]:
    """One row per cell: scores over seeds, what the model read, the fits' extent and time."""
    head = ["model", "features", *(("labels", "labelled rows") if fractions else ()), "reads",
            "test", "val", "epochs or rounds run / cap", "ended by the cap", "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for model, features, fraction in cells:
        cell = frame[(frame.model == model) & (frame.features == features)
                     & (frame.fraction == fraction)]
        rows = cell[cell.status == "ok"]
        extent, capped = _extent(rows)
        test = _fmt(rows["test"])
        failed = sorted(cell[cell.status != "ok"]["seed"])
        if failed:
            test += f"; failed seeds {', '.join(str(s) for s in failed)}"
        labelled = f"{rows['n_labelled'].mean():.0f}" if not rows.empty else "–"
        values = [model, FEATURE_LABELS[features],
                  *((_fraction_text(fraction), labelled) if fractions else ()), _reads(rows),
                  test, _fmt(rows["val"]), extent, capped,
                  f"{rows['fit_s'].mean():.1f}" if not rows.empty else "–"]
        lines.append("| " + " | ".join(values) + " |")
    return lines


# -- sections ----------------------------------------------------------------------------------


def _frozen_cells() -> list[tuple]:
    return [(m, f, 1.0) for m in GRID_A_MODELS for f in FEATURES]


def _few_label_pairs(frame: pd.DataFrame) -> list[tuple]:
    """(model, features) of grid B, and of grid ``target`` where ``frame`` has its cells."""
    target_aware = bool((frame["features"] == TARGET_AWARE).any())
    return [*FEW_LABEL_CELLS, *(TARGET_AWARE_CELLS if target_aware else ())]


def _few_label_cells(frame: pd.DataFrame) -> list[tuple]:
    return [(m, f, r) for m, f in _few_label_pairs(frame) for r in FEW_LABEL_FRACTIONS]


def _frozen_differences(frame: pd.DataFrame, metric: str) -> list[tuple]:
    """(model, difference, verdict) of +T-JEPA minus +untrained for each grid-A model."""
    out = []
    for model in GRID_A_MODELS:
        diff = paired_difference(frame, (model, "tjepa", 1.0), (model, "untrained", 1.0))
        out.append((model, diff, verdict(diff, metric)))
    return out


def _finetune_differences(frame: pd.DataFrame, metric: str) -> dict:
    """Fraction -> (difference, verdict) of finetune+tjepa minus finetune+untrained."""
    out = {}
    for fraction in FEW_LABEL_FRACTIONS:
        diff = paired_difference(frame, ("finetune", "tjepa", fraction),
                                 ("finetune", "untrained", fraction))
        out[fraction] = (diff, verdict(diff, metric))
    return out


def _target_aware_differences(frame: pd.DataFrame, metric: str) -> dict:
    """(fraction, split) -> (difference, verdict) of finetune+target minus finetune+tjepa."""
    return {
        (fraction, split): (diff, verdict(diff, metric))
        for fraction in FEW_LABEL_FRACTIONS
        for split in ("test", "val")
        for diff in [paired_difference(frame, ("finetune", TARGET_AWARE, fraction),
                                       ("finetune", "tjepa", fraction), split=split)]
    }


def _target_aware_lines(frame: pd.DataFrame, metric: str) -> list[str]:
    """What ``finetune+target`` is, and its paired difference from ``finetune+tjepa``."""
    differences = _target_aware_differences(frame, metric)
    lines = [
        "Target-aware pretraining (`finetune+target`; Rubachev et al. 2022, \"Revisiting "
        "pretraining objectives for tabular deep learning\"): the fine-tuner pretrains the same "
        "T-JEPA configuration itself, on every train row with the label as one more column, "
        "shown for the labelled rows and missing for the others; every row it fine-tunes on, "
        "validates or predicts shows the label missing. Unlike the cached pretraining of "
        "`finetune+tjepa`, which keeps the epoch of lowest JEPA loss on val, it sees no val row: "
        "it keeps its last epoch (or, where the budget's T-JEPA stops early, the best on a share "
        "of the train rows). Paired over seeds, finetune+target − finetune+tjepa, on test and on "
        "val (where a choice between them is made):",
        "",
        "| labels | test: difference ± SE (n) | verdict | val: difference ± SE (n) | verdict |",
        "|---|---|---|---|---|",
    ]
    for fraction in FEW_LABEL_FRACTIONS:
        cells = [f"{_fmt_diff(diff)} | {word}"
                 for diff, word in (differences[fraction, split] for split in ("test", "val"))]
        lines.append(f"| {_fraction_text(fraction)} | " + " | ".join(cells) + " |")
    return lines + [""]


def _pipeline_vs_gbdt(frame: pd.DataFrame, metric: str) -> dict:
    """Fraction -> (best T-JEPA cell, best raw GBDT cell, difference, verdict), chosen on val."""
    out = {}
    for fraction in FEW_LABEL_FRACTIONS:
        at = frame[(frame.fraction == fraction) & (frame.status == "ok")]
        tjepa = sorted({(m, "tjepa", fraction) for m in at[at.features == "tjepa"]["model"]})
        gbdts = sorted({(m, "raw", fraction) for m in at[at.features == "raw"]["model"]
                        if m in GBDT_NAMES})
        ours, theirs = best_by_val(frame, tjepa, metric), best_by_val(frame, gbdts, metric)
        diff = paired_difference(frame, ours, theirs) if ours and theirs else None
        out[fraction] = (ours, theirs, diff, verdict(diff, metric))
    return out


def _anchor_table(code: str, partial: bool, std: float | None, unit: str | None) -> list[str]:
    anchors = anchors_for(code)
    if not anchors:
        return []
    scale = f" ({unit})" if unit else ""
    lines = ["Published test figures, as printed and on our scale:", "",
             f"| published | model | setting | as printed | on our scale{scale} | comparable |",
             "|---|---|---|---|---|---|"]
    for anchor in anchors:
        ours = in_our_units(anchor, std)
        printed = f"{anchor.score:.3f}" + (" (standardised target)" if anchor.standardised else "")
        converted = "needs the data" if ours is None else f"{ours:.3f}"
        caveat = anchor.caveat or (_NOT_COMPARABLE_SPLIT if partial else "yes, same split")
        lines.append(f"| *published*: {SOURCES[anchor.source][0]} | {anchor.model} | "
                     f"{anchor.setting} | {printed} | {converted} | {caveat} |")
    if std is not None and any(a.standardised for a in anchors):
        lines += ["", f"Standardised figures are multiplied by the standard deviation of our "
                  f"target, {std:.4f}{scale} (all rows, ddof=0)."]
    return lines + [""]


def _dataset_section(frame: pd.DataFrame, code: str, out: Path, data_dir) -> list[str]:
    metric = frame["metric"].iloc[0]
    unit = TARGET_UNITS.get(code)
    ylabel = axis_label(metric, unit)
    partial = bool(frame["partial"].any())
    rows = frame["rows"].iloc[0]
    variant = "PARTIAL data" if partial else "full data"
    if frame["subset_by_budget"].any():
        variant += ", rows subset by the budget"
    seeds = ", ".join(str(s) for s in sorted(frame["seed"].unique()))
    std = None
    if any(a.standardised for a in anchors_for(code)):
        std = target_std(frame["name"].iloc[0], data_dir)
    lines = [f"## {code}", "",
             f"Test {_METRIC_NAMES[metric]}{f' in {unit}' if unit else ''}"
             f"{' (lower is better)' if metric == 'rmse' else ''}; {variant}; train/val/test rows "
             f"{rows['train']}/{rows['val']}/{rows['test']}; budget "
             f"{', '.join(sorted(frame['budget'].unique()))}; seeds {seeds}.", ""]
    if partial:
        lines += [f"**{_NOT_COMPARABLE_SPLIT[0].upper()}{_NOT_COMPARABLE_SPLIT[1:]}**: no "
                  "published figure below can be compared with these rows.", ""]
    lines += _anchor_table(code, partial, std, unit)

    frozen = frame[frame.fraction == 1.0]
    lines += ["### Frozen features: raw vs +T-JEPA vs +untrained", ""]
    lines += _cells_table(frame, _frozen_cells(), fractions=False) + [""]
    lines += ["Paired over seeds, +T-JEPA minus +untrained (test):", "",
              "| model | difference ± SE (n) | verdict |", "|---|---|---|"]
    lines += [f"| {model} | {_fmt_diff(diff)} | {word} |"
              for model, diff, word in _frozen_differences(frame, metric)]
    lines.append("")
    if frozen["test"].notna().any():
        plot = out.with_name(f"{out.stem}_{code}.png")
        anchors = {a.model: in_our_units(a, std) for a in anchors_for(code)
                   if a.setting == "raw" and a.caveat is None and not partial}
        plot_models(frozen, models=list(GRID_A_MODELS), ylabel=ylabel, path=plot,
                    anchors={m: v for m, v in anchors.items() if v is not None},
                    title=f"{code}: raw vs +T-JEPA vs +untrained (mean ± std over seeds)")
        lines += [f"![{code}: scores by model and feature set]({plot.name})", ""]

    lines += ["### Few labels (pretraining on every train row, labels hidden)", "",
              "The labelled rows are the same for every model at one seed and label fraction.",
              ""]
    lines += _cells_table(frame, _few_label_cells(frame), fractions=True) + [""]
    lines += ["Paired over seeds (test): fine-tuning from the pretrained minus from the untrained "
              "encoder; the best T-JEPA pipeline minus the best raw GBDT on the same labels, "
              "each chosen by mean val score (its test score after its name):", "",
              "| labels | finetune+tjepa − finetune+untrained | verdict | best T-JEPA pipeline | "
              "best raw GBDT | difference | verdict |", "|---|---|---|---|---|---|---|"]
    finetune = _finetune_differences(frame, metric)
    versus = _pipeline_vs_gbdt(frame, metric)
    for fraction in FEW_LABEL_FRACTIONS:
        diff, word = finetune[fraction]
        ours, theirs, best_diff, best_word = versus[fraction]
        lines.append(f"| {_fraction_text(fraction)} | {_fmt_diff(diff)} | {word} | "
                     f"{_chosen(frame, ours)} | {_chosen(frame, theirs)} | "
                     f"{_fmt_diff(best_diff)} | {best_word} |")
    lines.append("")
    if (frame["features"] == TARGET_AWARE).any():
        lines += _target_aware_lines(frame, metric)
    pairs = _few_label_pairs(frame)
    few = frame[frame.status == "ok"]
    few = few[[(m, f) in pairs for m, f in zip(few.model, few.features)]]
    if few["fraction"].nunique() > 1:
        plot = out.with_name(f"{out.stem}_{code}_fractions.png")
        plot_fractions(few, cells=pairs, ylabel=ylabel, path=plot,
                       title=f"{code}: few labels (mean ± std over seeds)")
        lines += [f"![{code}: score against label fraction]({plot.name})", ""]

    known = set(_frozen_cells()) | set(_few_label_cells(frame))
    others = sorted({(r.model, r.features, r.fraction) for r in frame.itertuples()} - known)
    if others:
        lines += ["### Other cells", ""] + _cells_table(frame, others, fractions=True) + [""]
    return lines


def _verdict_row(frame: pd.DataFrame, code: str) -> str:
    metric = frame["metric"].iloc[0]
    words = [word for _, _, word in _frozen_differences(frame, metric)]
    decided = [w for w in words if w != "missing"]
    frozen = (", ".join(f"{label}: {decided.count(label)}" for label in
                        ("helps", "hurts", "no clear difference", "one seed")
                        if decided.count(label))
              + f" (of {len(decided)} models)") if decided else _MISSING

    def text(diff, word):
        return word if diff is None else f"{word}: {_fmt_diff(diff)}"

    finetune = _finetune_differences(frame, metric)
    versus = _pipeline_vs_gbdt(frame, metric)
    cells = [text(*finetune[r]) for r in FEW_LABEL_FRACTIONS]
    cells += [text(*versus[r][2:]) for r in FEW_LABEL_FRACTIONS]
    return f"| {code} ({metric}) | {frozen} | " + " | ".join(cells) + " |"


def _verdict_table(ok: pd.DataFrame) -> list[str]:
    fractions = [_fraction_text(r) for r in FEW_LABEL_FRACTIONS]
    lines = [
        "Where T-JEPA pretraining helps, paired over seeds on test. *helps* only when the mean "
        "difference is better by more than two standard errors (higher accuracy, lower RMSE); "
        "differences are pretrained minus untrained (or T-JEPA pipeline minus GBDT), in the "
        "metric's units, so a negative RMSE difference is a gain.",
        "",
        "| dataset | frozen tokens: +T-JEPA vs +untrained, per model | "
        + " | ".join(f"fine-tuning, pretrained vs untrained, {f} labels" for f in fractions)
        + " | " + " | ".join(f"best T-JEPA pipeline vs best raw GBDT, {f} labels"
                             for f in fractions) + " |",
        "|---" * (2 + 2 * len(fractions)) + "|",
    ]
    return lines + [_verdict_row(cells, code) for code, cells in ok.groupby("code")]


def _pretraining_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per pretraining: a cached one serves every cell of its (dataset, feature set,
    seed); a target-aware cell pretrains its own."""
    runs = frame[frame["pretraining"].notna()]
    own = runs["features"] == TARGET_AWARE
    return pd.concat([runs[~own].drop_duplicates(["code", "features", "seed"]), runs[own]])


def _number(values: pd.Series, reduce: str, digits: int) -> str:
    """``values`` reduced (``"mean"`` or ``"max"``) and formatted; "–" when none is recorded."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    return f"{getattr(values, reduce)():.{digits}f}" if not values.empty else "–"


def _pretraining_table(frame: pd.DataFrame) -> list[str]:
    lines = [
        "| dataset | features | configuration | seeds | pretraining s | epochs run | epoch kept "
        "| embedding s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (code, features), runs in _pretraining_runs(frame).groupby(["code", "features"]):
        info = pd.DataFrame(list(runs["pretraining"]))
        params = info["params"].iloc[0]
        config = (f"width {params.get('d_model')}, {params.get('n_layers')} layers, "
                  f"≤ {params.get('max_epochs')} epochs")
        lines.append(
            f"| {code} | {FEATURE_LABELS[features]} | {config} | {runs['seed'].nunique()} | "
            f"{runs['pretraining_s'].mean():.1f} | {info['n_iter'].mean():.1f} | "
            f"{_number(info['best_epoch'], 'mean', 1)} | "
            f"{_number(info['embedding_seconds'], 'mean', 1)} | "
            f"{_number(info['peak_rss_mb'], 'max', 0)} |"
        )
    return lines


def _runs_section(frame: pd.DataFrame) -> list[str]:
    lines = ["## Runs", ""]
    for machine in sorted({json.dumps(m, sort_keys=True) for m in frame["machine"]}):
        m = json.loads(machine)
        lines.append(f"- Machine: {m['platform']}, {m['cpu_count']} CPUs ({m['processor']}), "
                     f"torch threads {m['torch_threads']}, GPU {m['cuda'] or 'none'}.")
    lines.append(f"- Budgets: {', '.join(sorted(frame['budget'].unique()))} "
                 "(limits in `sklearn_tjepa/bench/budgets.py`).")
    lines.append(f"- Seeds: {', '.join(str(s) for s in sorted(frame['seed'].unique()))}.")
    lines.append(f"- Commits: {', '.join(sorted({str(c)[:10] for c in frame['commit']}))}.")
    older = frame[frame["protocol"] != PROTOCOL]
    if not older.empty:
        lines.append(f"- {len(older)} result files predate protocol {PROTOCOL}: their +T-JEPA "
                     "GBDTs and linear model read the tokens without the raw columns, and they "
                     "record neither what the model read nor how the fit ended.")
    pretraining = _pretraining_runs(frame)
    total = frame["fit_s"].sum() + frame["inference_s"].sum() + pretraining["pretraining_s"].sum()
    cpu = frame["cpu_s"].sum() + pretraining["pretraining_cpu_s"].sum()
    lines.append(f"- Measured compute: {total / 3600:.2f} h of wall-clock time and {cpu / 3600:.2f} h "
                 f"of CPU time summed over all fits, predictions and pretrainings ({len(frame)} "
                 f"results, {len(pretraining)} pretrainings); results finished between "
                 f"{frame['finished'].min()} and {frame['finished'].max()} (UTC).")
    lines += ["- Commands that produced these results:", ""]
    lines += [f"      {command}" for command in sorted(frame["command"].unique())]
    return lines + [""]


_PROTOCOL = """## Protocol

- Splits: the benchmark's published train/val/test split for Adult and California; for Higgs and
  Jannis, where only the benchmark's val and test rows are available offline, a seeded stratified
  re-split of those rows (not comparable with published figures). Every result file records its
  data source, whether the data is partial and the sizes.
- Preprocessing (scaling, encoding, T-JEPA) is fitted on train rows only. T-JEPA is pretrained on
  every train row without labels, also for the few-label cells; the epoch kept is the one with the
  lowest JEPA loss on val rows. The untrained control is the same encoder with `max_epochs=0`.
- What each model reads is in the `reads` column: GBDTs and the linear model read the raw columns
  plus the flattened tokens (as a `FeatureUnion` would give); the deep baselines read the tokens
  alone, each token reduced to one number by a learned linear map (per token) or flattened, as the
  budget says; `finetune` reads the raw table through the encoder it fine-tunes end to end, from
  the pretrained (`+T-JEPA`) or the untrained (`+untrained`) encoder. The T-JEPA paper's tuned
  models read the tokens differently by dataset (California: a linear map of the flattened
  tokens; Adult: per feature, FT-Transformer aside), so neither reading here is *the* paper's.
- Early stopping (deep models, fine-tuners, GBDTs) and the linear model's regularisation use the
  whole val split; the test split is scored once, after every choice. Every fit is capped by the
  budget; the tables give the epochs or rounds run against the cap and how many fits the cap
  ended (rather than early stopping).
- Label fractions: the downstream model sees a stratified share of the train rows (at least 10
  rows and two per class), the same rows for every model at one seed; val stays whole.
- Scores: accuracy (classification) or RMSE (regression, lower is better) on test, mean ±
  sample standard deviation over seeds, n = number of seeds. Paired differences: mean ± standard
  error over the seeds both cells finished.
"""


def write_report(results_dir, out, *, data_dir=None) -> list[Path]:
    """Write the Markdown report, its verdict table and its plots.

    Parameters
    ----------
    results_dir : path-like
        Folder of the runner's outputs.
    out : path-like
        Markdown file to write; the PNG plots and ``<stem>_verdict.md`` go next to it.
    data_dir : path-like or None
        Dataset folder for the target standard deviation that converts standardised published
        figures (default: ``SKLEARN_TJEPA_DATA``); nothing is downloaded.

    Returns
    -------
    paths : list of Path
        The report and the verdict table.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    verdict_path = out.with_name(f"{out.stem}_verdict.md")
    frame = load_results(results_dir)
    lines = ["# Benchmarks", "",
             f"Generated by `python -m benchmarks report` from `{results_dir}`; do not edit by hand.",
             ""]
    # The verdict page is for README to include; the docs reach it through the report only.
    verdict_lines = ["---", "orphan: true", "---", "", "# Benchmark verdict", ""]
    if frame.empty:
        empty = "No results yet: run `python -m benchmarks run`."
        out.write_text("\n".join(lines + [empty]) + "\n")
        verdict_path.write_text("\n".join(verdict_lines + [empty]) + "\n")
        return [out, verdict_path]
    ok = frame[frame["status"] == "ok"]
    verdicts = _verdict_table(ok)
    verdict_path.write_text("\n".join(
        verdict_lines + verdicts + ["", f"Generated by `python -m benchmarks report`; details in "
                                        f"[{out.name}]({out.name})."]) + "\n")
    lines += ["## Verdict", ""] + verdicts + [""]
    lines += _runs_section(frame) + [_PROTOCOL]
    for code, cells in frame.groupby("code"):
        lines += _dataset_section(cells, code, out, data_dir)
    lines += ["## Pretraining cost", ""] + _pretraining_table(ok) + [""]
    lines += ["## References", ""]
    lines += [f"- {label}: {citation}." for label, citation in SOURCES.values()]
    failed = frame[frame["status"] != "ok"]
    if not failed.empty:
        lines += ["", "## Failed cells", "",
                  "| dataset | model | features | fraction | seed | error |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r.code} | {r.model} | {r.features} | {r.fraction:g} | {r.seed} | "
                  f"{r.error.replace('|', '/')} |" for r in failed.itertuples()]
    out.write_text("\n".join(lines) + "\n")
    return [out, verdict_path]
