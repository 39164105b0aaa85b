"""Build ``docs/benchmarks.md`` and its PNG plots from the result files.

Everything in the report is read from ``results/**/output_<seed>.json``: scores (mean ± sample
standard deviation over seeds), budgets, machines, commands and times. Plots are drawn with
matplotlib's Agg backend next to the Markdown file (``<name>_<dataset_code>*.png``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_tjepa.bench.reference import EARLIER, EARLIER_NOTE, PAPER, PAPER_NOTE
from sklearn_tjepa.bench.results import MAIN_METRIC

__all__ = ["load_results", "write_report"]

_GBDTS = ("xgboost", "lightgbm", "catboost", "hist_gradient_boosting")
_FEATURE_LABELS = {"raw": "raw", "tjepa": "+T-JEPA", "untrained": "+untrained"}


def load_results(results_dir) -> pd.DataFrame:
    """One row per output file (the cache folder skipped), with the main scores flattened."""
    rows = []
    for path in sorted(Path(results_dir).glob("*/*/output_*.json")):
        record = json.loads(path.read_text())
        metric = MAIN_METRIC[record["task"]]
        ok = record["status"] == "ok"
        rows.append(
            {
                "code": record["dataset_code"],
                "task": record["task"],
                "model": record["model"],
                "features": record["features"],
                "fraction": record["label_fraction"],
                "seed": record["seed"],
                "status": record["status"],
                "error": (record.get("error") or "").splitlines()[0] if not ok else "",
                "metric": metric,
                "test": record["test"][metric] if ok else np.nan,
                "val": record["val"][metric] if ok else np.nan,
                "test_auc": record["test"].get("roc_auc", np.nan) if ok else np.nan,
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
                "token_reading": (record.get("config") or {}).get("token_reading"),
                "command": record["command"],
                "machine": record["environment"]["machine"],
                "commit": record["environment"]["git"]["commit"],
                "finished": record["finished"],
            }
        )
    return pd.DataFrame(rows)


def _fmt(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    if values.size == 1:
        return f"{values.iloc[0]:.4f} (n=1)"
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f} (n={values.size})"


def _better(a: float, b: float, metric: str) -> bool:
    return a < b if metric == "rmse" else a > b


def _plot_models(frame: pd.DataFrame, code: str, metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = sorted(frame["model"].unique())
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(models)), 4))
    width = 0.27
    for k, features in enumerate(("raw", "tjepa", "untrained")):
        cells = [frame[(frame.model == m) & (frame.features == features)]["test"].dropna()
                 for m in models]
        means = [c.mean() if c.size else np.nan for c in cells]
        stds = [c.std(ddof=1) if c.size > 1 else 0.0 for c in cells]
        ax.bar(np.arange(len(models)) + (k - 1) * width, means, width, yerr=stds, capsize=2,
               label=_FEATURE_LABELS[features])
    for model in _GBDTS:
        cell = frame[(frame.model == model) & (frame.features == "raw")]["test"].dropna()
        if cell.size:
            ax.axhline(cell.mean(), linestyle="--", linewidth=0.8, color="grey")
    for i, model in enumerate(models):
        paper = PAPER.get((code, model), {})
        for features, offset in (("raw", -width), ("tjepa", 0.0)):
            if features in paper:
                ax.plot(i + offset, paper[features], "kx")
    ax.set_xticks(np.arange(len(models)), models, rotation=30, ha="right")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"{code}: raw vs +T-JEPA vs +untrained (x: paper; dashed: GBDTs on raw)")
    finite = frame["test"].dropna()
    if not finite.empty:
        low, high = finite.min(), finite.max()
        ax.set_ylim(low - 0.1 * (high - low + 1e-3), high + 0.1 * (high - low + 1e-3))
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_fractions(frame: pd.DataFrame, code: str, metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for (model, features), cells in frame.groupby(["model", "features"]):
        curve = cells.groupby("fraction")["test"].agg(["mean", "std"]).sort_index()
        if len(curve) < 2:
            continue
        ax.errorbar(curve.index, curve["mean"], yerr=curve["std"].fillna(0.0), marker="o",
                    capsize=2, label=f"{model} {_FEATURE_LABELS[features]}",
                    linestyle="--" if model in _GBDTS else "-")
    ax.set_xscale("log")
    ax.set_xlabel("share of labelled train rows")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"{code}: few labels (pretraining always on all train rows)")
    ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _model_table(frame: pd.DataFrame, code: str) -> list[str]:
    lines = [
        "| model | raw | +T-JEPA | +untrained | paper raw | paper +T-JEPA |",
        "|---|---|---|---|---|---|",
    ]
    for model in sorted(frame["model"].unique()):
        cells = [_fmt(frame[(frame.model == model) & (frame.features == f)]["test"])
                 for f in ("raw", "tjepa", "untrained")]
        paper = PAPER.get((code, model), {})
        ref = [f"{paper[f]:.3f}" if f in paper else "–" for f in ("raw", "tjepa")]
        lines.append(f"| {model} | " + " | ".join(cells + ref) + " |")
    return lines


def _verdicts(frame: pd.DataFrame, code: str, metric: str) -> list[str]:
    """Plain statements of where T-JEPA does and does not help (means over seeds)."""
    lines = []
    means = frame.groupby(["model", "features"])["test"].mean()
    stds = frame.groupby(["model", "features"])["test"].std(ddof=1)
    for model in sorted(frame["model"].unique()):
        if (model, "tjepa") not in means or (model, "raw") not in means:
            continue
        tjepa, raw = means[(model, "tjepa")], means[(model, "raw")]
        untrained = means.get((model, "untrained"), np.nan)
        noise = np.nanmax([stds.get((model, "tjepa"), np.nan), stds.get((model, "raw"), np.nan),
                           0.0])
        if not _better(tjepa, raw, metric) or abs(tjepa - raw) <= noise:
            lines.append(f"- {code} {model}: T-JEPA does **not** help "
                         f"(raw {raw:.4f}, +T-JEPA {tjepa:.4f}).")
        elif not np.isnan(untrained) and not _better(tjepa, untrained, metric):
            lines.append(f"- {code} {model}: +T-JEPA beats raw ({tjepa:.4f} vs {raw:.4f}) but not "
                         f"the untrained encoder ({untrained:.4f}): the gain is not pretraining's.")
        else:
            lines.append(f"- {code} {model}: +T-JEPA {tjepa:.4f} vs raw {raw:.4f}"
                         + (f", untrained {untrained:.4f}" if not np.isnan(untrained) else "")
                         + ".")
    best_gbdt = [means[(m, "raw")] for m in _GBDTS if (m, "raw") in means]
    tjepa_cells = [means[k] for k in means.index if k[1] == "tjepa"]
    if best_gbdt and tjepa_cells:
        pick = min if metric == "rmse" else max
        gbdt, ours = pick(best_gbdt), pick(tjepa_cells)
        if not _better(ours, gbdt, metric):
            lines.append(f"- {code}: the best +T-JEPA model ({ours:.4f}) does **not** reach the "
                         f"best GBDT on the raw table ({gbdt:.4f}).")
    return lines


def _pretraining_table(frame: pd.DataFrame) -> list[str]:
    lines = [
        "| dataset | features | seeds | pretraining s | epochs run | epoch kept | embedding s "
        "| peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    cells = frame[frame["pretraining"].notna()]
    for (code, features), group in cells.groupby(["code", "features"]):
        by_seed = group.drop_duplicates("seed")
        info = pd.DataFrame(list(by_seed["pretraining"]))
        lines.append(
            f"| {code} | {_FEATURE_LABELS[features]} | {len(by_seed)} | "
            f"{by_seed['pretraining_s'].mean():.1f} | {info['n_iter'].mean():.1f} | "
            f"{info['best_epoch'].dropna().mean() if info['best_epoch'].notna().any() else '–'} | "
            f"{info['embedding_seconds'].mean():.1f} | {info['peak_rss_mb'].max():.0f} |"
        )
    return lines


def _runs_section(frame: pd.DataFrame) -> list[str]:
    lines = ["## Runs", ""]
    machines = {json.dumps(m, sort_keys=True) for m in frame["machine"]}
    for machine in sorted(machines):
        m = json.loads(machine)
        lines.append(f"- Machine: {m['platform']}, {m['cpu_count']} CPUs ({m['processor']}), "
                     f"torch threads {m['torch_threads']}, GPU {m['cuda'] or 'none'}.")
    lines.append(f"- Budgets: {', '.join(sorted(frame['budget'].unique()))} "
                 "(limits in `sklearn_tjepa/bench/budgets.py`).")
    lines.append(f"- Seeds: {', '.join(str(s) for s in sorted(frame['seed'].unique()))}.")
    lines.append(f"- Commits: {', '.join(sorted({str(c)[:10] for c in frame['commit']}))}.")
    pretraining = frame[frame["pretraining"].notna()].drop_duplicates(["code", "features", "seed"])
    total = frame["fit_s"].sum() + frame["inference_s"].sum() + pretraining["pretraining_s"].sum()
    cpu = frame["cpu_s"].sum() + pretraining["pretraining_cpu_s"].sum()
    lines.append(f"- Measured compute: {total / 3600:.2f} h of wall-clock time and {cpu / 3600:.2f} h "
                 f"of CPU time summed over all fits, predictions and pretrainings ({len(frame)} "
                 f"cells, {len(pretraining)} pretrainings); results finished between "
                 f"{frame['finished'].min()} and {frame['finished'].max()} (UTC).")
    readings = sorted({r for r in frame["token_reading"].dropna()})
    if readings:
        lines.append(f"- Deep models read frozen tokens as: {', '.join(readings)} (`per_token`: a "
                     "learned linear reduction of each token before the network, the T-JEPA "
                     "paper's reading; GBDTs and the linear model read the flattened tokens).")
    lines += ["- Commands that produced these results:", ""]
    lines += [f"      {command}" for command in sorted(frame["command"].unique())]
    return lines + [""]


_PROTOCOL = """## Protocol

- Splits: the benchmark's published train/val/test split for Adult and California; for Higgs and
  Jannis, where only the benchmark's val and test rows are available offline, a seeded stratified
  re-split of those rows (scores not comparable with published full-data figures). Every result
  file records its data source, whether the data is partial and the sizes.
- Preprocessing (scaling, encoding, T-JEPA) is fitted on train rows only. T-JEPA is pretrained on
  all train rows without labels; the epoch kept is the one with the lowest JEPA loss on val rows.
  The untrained control is the same encoder with `max_epochs=0`.
- Early stopping (deep models, GBDTs) and the linear model's regularisation use the val split
  only; the test split is scored once, after every choice.
- Label fractions: the downstream model sees a stratified share of the train rows (at least 10
  rows and two per class); val stays whole.
- Scores: accuracy (classification) or RMSE (regression, lower is better) on test, mean ±
  sample standard deviation over seeds, n = number of seeds.
"""


def write_report(results_dir, out) -> Path:
    """Write the Markdown report and its plots.

    Parameters
    ----------
    results_dir : path-like
        Folder of the runner's outputs.
    out : path-like
        Markdown file to write; the PNG plots go next to it.

    Returns
    -------
    path : Path
        The Markdown file.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = load_results(results_dir)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python -m benchmarks report` from `{results_dir}`; do not edit by hand.",
        "",
    ]
    if frame.empty:
        out.write_text("\n".join(lines + ["No results yet: run `python -m benchmarks run`.", ""]))
        return out
    ok = frame[frame["status"] == "ok"]
    lines += _runs_section(frame) + [_PROTOCOL]
    verdicts = []
    for code, cells in ok.groupby("code"):
        metric = cells["metric"].iloc[0]
        full = cells[cells["fraction"] == 1.0]
        variant = "PARTIAL subset" if cells["partial"].any() else "full data"
        if cells["subset_by_budget"].any():
            variant += ", rows subset by the budget"
        rows = cells["rows"].iloc[0]
        lines += [f"## {code}", "",
                  f"Test {metric}{' (lower is better)' if metric == 'rmse' else ''}; {variant}; "
                  f"train/val/test rows {rows['train']}/{rows['val']}/{rows['test']}; budget "
                  f"{', '.join(sorted(cells['budget'].unique()))}.", ""]
        if not full.empty:
            plot = out.with_name(f"{out.stem}_{code}.png")
            _plot_models(full, code, metric, plot)
            lines += _model_table(full, code) + ["", f"![{code}]({plot.name})", ""]
            verdicts += _verdicts(full, code, metric)
        if cells["fraction"].nunique() > 1:
            plot = out.with_name(f"{out.stem}_{code}_fractions.png")
            _plot_fractions(cells, code, metric, plot)
            table = cells.groupby(["model", "features", "fraction"])["test"].apply(_fmt)
            lines += ["### Few labels", "", "| model | features | label fraction | test |",
                      "|---|---|---|---|"]
            lines += [f"| {m} | {_FEATURE_LABELS[f]} | {r:g} | {v} |"
                      for (m, f, r), v in table.items()]
            lines += ["", f"![{code} label fractions]({plot.name})", ""]
    lines += ["## Where T-JEPA does and does not help", "",
              "A +T-JEPA mean within one standard deviation of raw counts as no help.", ""]
    lines += verdicts or ["- No +T-JEPA results yet."]
    lines += ["", "## Pretraining cost", ""] + _pretraining_table(ok) + [""]
    lines += ["## Reference figures", "", f"Paper columns above: {PAPER_NOTE}", "",
              f"Earlier measurements: {EARLIER_NOTE}", "", "| dataset | model | test |",
              "|---|---|---|"]
    for (code, model), value in EARLIER.items():
        text = f"{value[0]:.3f}-{value[1]:.3f}" if isinstance(value, tuple) else f"{value:.3f}"
        lines.append(f"| {code} | {model} | {text} |")
    failed = frame[frame["status"] != "ok"]
    if not failed.empty:
        lines += ["", "## Failed cells", "", "| dataset | model | features | fraction | seed | error |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r.code} | {r.model} | {r.features} | {r.fraction:g} | {r.seed} | "
                  f"{r.error.replace('|', '/')} |" for r in failed.itertuples()]
    out.write_text("\n".join(lines) + "\n")
    return out
