"""Summary tables gathered from per-job JSON results (CSV and Markdown).

Each job writes nested JSON (``metrics.json``, ``diagnostics.json``, ``final.json``); here
those are flattened into one row per job (``point.rmse_test`` -> ``point_rmse_test``) and
summarised across replicates (mean, std, min, max), reading like the papers' tables. A row's
identifying keys (dataset, rep, criterion, rate, method) come from its file's path
(:func:`bayesprune.layout.keys_of`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .io import read_json, read_output
from .labels import ordered_methods, rate_text, task_of
from .layout import keys_of


def flatten(d: dict[str, Any], prefix: str = "", sep: str = "_") -> dict[str, Any]:
    """Flatten nested dicts; lists of numbers become their mean/min/max."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name, sep))
        elif isinstance(value, list | tuple):
            nums = [v for v in value if isinstance(v, int | float) and v is not None]
            if nums and len(nums) == len(value):
                out[f"{name}{sep}mean"] = float(np.mean(nums))
                out[f"{name}{sep}min"] = float(np.min(nums))
                out[f"{name}{sep}max"] = float(np.max(nums))
        else:
            out[name] = np.nan if value is None else value
    return out


def collect(files: Sequence[str], prefix: str = "") -> pd.DataFrame:
    """One row per JSON file: its path's keys plus its flattened content."""
    return pd.DataFrame([{**keys_of(path), **flatten(read_json(path), prefix)} for path in files])


def concat_tables(files: Sequence[str]) -> pd.DataFrame:
    """CSV tables one after another, each led by its path's keys as columns."""
    frames = []
    for path in files:
        frame = read_output(path, pd.read_csv, "CSV table")
        for col, value in reversed(list(keys_of(path).items())):
            frame.insert(0, col, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


RUN_KEYS = ["run", "chain"]


def collect_runs(files: Sequence[str], prefix: str = "", pooled: bool = False) -> pd.DataFrame:
    """One row per run of every stage file (``{"runs": [...]}``): its path's keys, the
    run's ``run`` label and ``chain`` (empty for a pooled run), then its flattened content.

    ``pooled`` (the full stage under ``pruning.unit: replicate``): the file's ``replicate``
    entry instead, as the one run ``pooled``.
    """
    rows = []
    for path in files:
        key = keys_of(path)
        content = read_json(path)
        runs = content["runs"]
        if pooled:
            runs = [{"run": "pooled", "chain": None} | content["replicate"]]
        for run in runs:
            body = {k: v for k, v in run.items() if k not in ("run", "chain", "chains")}
            chain = run.get("chain")
            rows.append(
                {**key, "run": run["run"], "chain": "" if chain is None else str(chain)}
                | flatten(body, prefix)
            )
    return pd.DataFrame(rows)


def full_posterior_table(
    metric_files: Sequence[str], diagnostic_files: Sequence[str]
) -> pd.DataFrame:
    """Per replicate: the full posterior's point estimates side by side (every chain's own
    mean network, the raw pooled mean, the aligned pooled mean) with the predictive, parameter
    R-hat before and after alignment, and how many chains sit in distinguishable modes."""
    diagnostics = {tuple(keys_of(path).items()): path for path in diagnostic_files}
    rows = []
    for mpath in metric_files:
        key = keys_of(mpath)
        metrics, diag = read_json(mpath), read_json(diagnostics[tuple(key.items())])
        rep = metrics["replicate"]
        task_col = "rmse_test" if "rmse_test" in rep["predictive"] else "acc_test"
        per_chain = [run["point"][task_col] for run in metrics["runs"] if run["chain"] is not None]
        rd = diag["replicate"]
        rows.append(
            {
                **key,
                "metric": task_col,
                "per_chain_min": min(per_chain) if per_chain else float("nan"),
                "per_chain_median": float(np.median(per_chain)) if per_chain else float("nan"),
                "per_chain_max": max(per_chain) if per_chain else float("nan"),
                "pooled": rep["point_unaligned"][task_col],
                "aligned_pooled": rep["point"][task_col],
                "predictive": rep["predictive"][task_col],
                "rhat_median_raw": rd["parameter_raw"]["rhat_median"],
                "rhat_median_aligned": rd["parameter"]["rhat_median"],
                "rhat_max_raw": rd["parameter_raw"]["rhat_max"],
                "rhat_max_aligned": rd["parameter"]["rhat_max"],
                "n_chains": rd["n_chains"],
                "n_modes": rd["modes"]["n_modes"],
            }
        )
    return pd.DataFrame(rows)


def merge_stage_tables(frames: Iterable[pd.DataFrame], on: Sequence[str]) -> pd.DataFrame:
    """Outer-join frames sharing the key columns ``on`` (metrics beside diagnostics)."""
    result: pd.DataFrame | None = None
    for frame in frames:
        result = frame if result is None else result.merge(frame, on=list(on), how="outer")
    return result if result is not None else pd.DataFrame(columns=list(on))


def summarise(
    frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Mean, std (ddof 1), min, max and count of numeric ``columns`` across replicates."""
    if columns is None:
        columns = [
            c
            for c in frame.columns
            if c not in by
            and c not in ("rep", *RUN_KEYS)
            and pd.api.types.is_numeric_dtype(frame[c])
        ]
    grouped = frame.groupby(list(by), sort=False, dropna=False)[list(columns)]
    stats = grouped.agg(["mean", "std", "min", "max"])
    stats.columns = [f"{col}_{stat}" for col, stat in stats.columns]
    # every row is one run (a chain of a replicate, or a pooled replicate)
    stats.insert(0, "n_runs", grouped.size().to_numpy())
    return stats.reset_index()


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))  # counts print as counts ("17230", not "1.723e+04")
        return f"{value:.{digits}g}"
    return str(value)


def to_markdown(frame: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body]) + "\n"


def mean_pm(
    frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str], digits: int = 4
) -> pd.DataFrame:
    """``mean ± std`` strings per group: the headline table layout of the papers."""
    grouped = frame.groupby(list(by), sort=False, dropna=False)
    rows = []
    for key, group in grouped:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n_runs"] = len(group)
        for col in columns:
            vals = group[col].astype(float).dropna()
            if vals.empty:
                row[col] = ""
            elif len(vals) == 1:
                row[col] = _fmt(vals.iloc[0], digits)
            else:
                row[col] = f"{_fmt(vals.mean(), digits)} ± {_fmt(vals.std(ddof=1), 2)}"
        rows.append(row)
    return pd.DataFrame(rows)


def stage_table(
    metric_files: Sequence[str], diagnostic_files: Sequence[str], stage: str, pooled: bool = False
) -> pd.DataFrame:
    """Rows of one method-A stage, one per run: identifying keys, metrics and diagnostics
    (``diag_`` prefix), matched on their keys. ``pooled``: see :func:`collect_runs`."""
    on = (list(keys_of(metric_files[0])) if metric_files else ["dataset", "rep"]) + RUN_KEYS
    frame = merge_stage_tables(
        [
            collect_runs(metric_files, pooled=pooled),
            collect_runs(diagnostic_files, prefix="diag", pooled=pooled),
        ],
        on,
    )
    frame.insert(0, "stage", stage)
    return frame


PRUNING_KEYS = ["dataset", "rep", "run", "chain", "criterion", "rate", "stage"]
#: what a summary groups by: every run of every replicate is one observation
SUMMARY_KEYS = ["dataset", "criterion", "rate", "stage"]


def summary_markdown(summary: pd.DataFrame, digits: int = 3) -> str:
    """The readable view of :func:`summarise` over ``pruning.csv`` (the CSV keeps every
    column): per dataset, criterion, rate and stage the number of runs, the test metric of the
    network at the (masked) posterior mean and of the posterior predictive as ``mean ± std
    (min-max)`` over runs, the kept parameters and the log likelihood's R-hat."""

    def cell(row: Any, col: str) -> str:
        mean, std = row.get(f"{col}_mean"), row.get(f"{col}_std")
        lo, hi = row.get(f"{col}_min"), row.get(f"{col}_max")
        if mean is None or pd.isna(mean):
            return ""
        text = f"{mean:.{digits}f}"
        if std is not None and not pd.isna(std):
            text += f" ± {std:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"
        return text

    rows = []
    for row in summary.to_dict("records"):
        metric = (
            "rmse_test"
            if "point_rmse_test_mean" in row and not pd.isna(row.get("point_rmse_test_mean"))
            else "acc_test"
        )
        rows.append(
            {
                **{k: row[k] for k in SUMMARY_KEYS},
                "runs": row["n_runs"],
                "metric": metric,
                "point": cell(row, f"point_{metric}"),
                "predictive": cell(row, f"predictive_{metric}"),
                "kept params": f"{row['size_n_kept_mean']:.0f}",
                "log-lik R-hat": cell(row, "diag_function_loglik_rhat").split(" (")[0],
            }
        )
    return to_markdown(pd.DataFrame(rows))


def pruning_table(
    full: pd.DataFrame, pruned: pd.DataFrame, resampled: pd.DataFrame
) -> pd.DataFrame:
    """One row per dataset, replicate, run, criterion, rate and stage (full, pruned,
    resampled).

    The full posterior appears once per run with criterion ``none`` and rate 0.
    """
    full = full.copy()
    full["criterion"] = "none"
    full["rate"] = 0.0
    table = pd.concat([full, pruned, resampled], ignore_index=True, sort=False)
    table["rate"] = table["rate"].astype(float)
    order = {"full": 0, "pruned": 1, "resampled": 2}
    table = table.sort_values(
        ["dataset", "rep", "run", "criterion", "rate", "stage"],
        key=lambda s: s.map(order) if s.name == "stage" else s,
    )
    cols = PRUNING_KEYS + [c for c in table.columns if c not in PRUNING_KEYS]
    return table[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- headline tables
HEADLINE_A_COLUMNS = [
    "unpruned",
    "full",
    "pruned",
    "resampled",
    "resampled (predictive)",
    "kept params",
]


def headline_method_a(table: pd.DataFrame, unpruned: pd.DataFrame | None = None) -> pd.DataFrame:
    """Method A headline: per dataset, criterion and rate, mean ± std across runs (every run
    of every replicate: one chain each under ``pruning.unit: chain``).

    ``table``: ``pruning.csv``; ``unpruned``: ``unpruned.csv``. Test error is the paper's
    (network at the masked posterior mean): RMSE on the modelled scale for regression,
    accuracy in % for classification; ``resampled (predictive)`` is the posterior predictive
    mean after resampling; ``kept params`` counts the pruned network's weights and biases.
    """
    rows = []
    for dataset, dsub in table.groupby("dataset", sort=False):
        task = task_of(dsub)
        metric = "test RMSE" if task == "regression" else "test accuracy (%)"
        factor = 1.0 if task == "regression" else 100.0
        col = "rmse_test" if task == "regression" else "acc_test"
        full = dsub[dsub["stage"] == "full"].set_index(["rep", "run"])
        unp = None
        if unpruned is not None and len(unpruned) and f"point_{col}" in unpruned.columns:
            unp = unpruned[unpruned["dataset"] == dataset].set_index("rep")
        stages = dsub[dsub["stage"] != "full"]
        keys = ["criterion", "rate", "rep", "run"]
        for (crit, rate, rep, run), grp in stages.groupby(keys, sort=False):
            row = {
                "dataset": dataset,
                "metric": metric,
                "criterion": crit,
                "rate": float(rate),
                "rep": rep,
                "run": run,
            }
            row["unpruned"] = (
                factor * unp.loc[rep, f"point_{col}"]
                if unp is not None and rep in unp.index
                else np.nan
            )
            row["full"] = (
                factor * full.loc[(rep, run), f"point_{col}"]
                if (rep, run) in full.index
                else np.nan
            )
            rows.append(row | _headline_stages(grp.set_index("stage"), col, factor))
    wide = pd.DataFrame(rows)
    if wide.empty:
        return wide
    keys = ["dataset", "metric", "criterion", "rate"]
    out = mean_pm(wide, keys, HEADLINE_A_COLUMNS, digits=4)
    out["of"] = pd.array(  # a count: printed "266", not "266.0"
        wide.groupby(keys, sort=False)["of"].first().round().to_numpy(), dtype="Int64"
    )
    out["rate"] = out["rate"].map(rate_text)
    return out.rename(columns={"rate": "removed", "of": "total params"})


def _headline_stages(by_stage: pd.DataFrame, col: str, factor: float) -> dict[str, float]:
    """One run's pruned and resampled test error (``col`` x ``factor``) and network size."""
    row = {}
    for stage in ("pruned", "resampled"):
        row[stage] = (
            factor * by_stage.loc[stage, f"point_{col}"] if stage in by_stage.index else np.nan
        )
    row["resampled (predictive)"] = (
        factor * by_stage.loc["resampled", f"predictive_{col}"]
        if "resampled" in by_stage.index
        else np.nan
    )
    kept = by_stage.get("size_n_kept")
    row["kept params"] = float(kept.iloc[0]) if kept is not None else np.nan
    total = by_stage.get("size_n_params")
    row["of"] = float(total.iloc[0]) if total is not None else np.nan
    return row


def headline_method_b(finals: pd.DataFrame) -> pd.DataFrame:
    """Method B headline: per dataset and method, final test accuracy (%), sparsity (%) and
    kept parameters, mean ± std across replicates; accepted pruning steps (mean)."""
    frame = finals.copy()
    frame["test accuracy (%)"] = 100 * frame["test_acc"].astype(float)
    frame["sparsity (%)"] = 100 * frame["sparsity"].astype(float)
    frame["kept params"] = frame["kept_params"].astype(float)
    cols = ["test accuracy (%)", "sparsity (%)", "kept params"]
    if "accepted_steps" in frame.columns:
        frame["accepted steps"] = frame["accepted_steps"].astype(float)
        cols.append("accepted steps")
    frame["method"] = pd.Categorical(frame["method"], ordered_methods(frame), ordered=True)
    frame = frame.sort_values(["dataset", "method"])
    frame["method"] = frame["method"].astype(str)
    return mean_pm(frame, ["dataset", "method"], cols, digits=4)
