"""Method A per run: the Markdown tables docs/reproduction.md quotes, from one results folder.

Usage:

    .venv/bin/python benchmarks/modes_report.py RESULTS_DIR

Prints (1) per dataset, the full posterior's point estimates per chain, raw pooled and
symmetry-aligned pooled, beside the pooled predictive, with parameter R-hat before and after
alignment and the number of distinguishable modes (from ``tables/full_posterior.csv``);
(2) pruned and resampled test error per criterion at 50% and 75% removed, point and
predictive, mean ± sd over runs (``tables/pruning.csv``); (3) the better of STN/SPN chosen on
*training* error per dataset and rate, against RND; (4) per dataset and stage, the median
over runs of each run's convergence summary (R-hat, ESS, acceptance).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

RATES = (0.5, 0.75)


def _pm(values: pd.Series) -> str:
    v = values.dropna().astype(float)
    if v.empty:
        return ""
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v.iloc[0]:.3f}"


def full_table(results: Path) -> str:
    t = pd.read_csv(results / "tables" / "full_posterior.csv")
    rows = [
        "| dataset | metric | per chain (min-max) | pooled | aligned pooled | predictive "
        "| param R-hat median raw / aligned | chains / modes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, sub in t.groupby("dataset", sort=False):
        rows.append(
            f"| {dataset} | {sub['metric'].iloc[0]} | {sub['per_chain_min'].min():.3f}-"
            f"{sub['per_chain_max'].max():.3f} | {_pm(sub['pooled'])} | {_pm(sub['aligned_pooled'])}"
            f" | {_pm(sub['predictive'])} | {sub['rhat_median_raw'].mean():.2f} / "
            f"{sub['rhat_median_aligned'].mean():.2f} | {int(sub['n_chains'].iloc[0])} / "
            f"{', '.join(str(int(m)) for m in sub['n_modes'])} |"
        )
    return "\n".join(rows)


def _metric(sub: pd.DataFrame) -> str:
    # a results folder of classification sets only has no RMSE columns
    has_rmse = "point_rmse_test" in sub and sub["point_rmse_test"].notna().any()
    return "rmse" if has_rmse else "acc"


def stage_table(results: Path) -> str:
    t = pd.read_csv(results / "tables" / "pruning.csv")
    rows = [
        "| dataset | criterion | removed | pruned, point | resampled, point | pruned, "
        "predictive | resampled, predictive |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset, sub in t.groupby("dataset", sort=False):
        m = _metric(sub)
        full = sub[sub["stage"] == "full"]
        rows.append(
            f"| {dataset} | full | 0% | {_pm(full[f'point_{m}_test'])} | | "
            f"{_pm(full[f'predictive_{m}_test'])} | |"
        )
        for (crit, rate), grp in sub[sub["rate"].isin(RATES)].groupby(["criterion", "rate"]):
            p, r = grp[grp["stage"] == "pruned"], grp[grp["stage"] == "resampled"]
            rows.append(
                f"| {dataset} | {crit.upper()} | {100 * rate:.0f}% | {_pm(p[f'point_{m}_test'])} | "
                f"{_pm(r[f'point_{m}_test'])} | {_pm(p[f'predictive_{m}_test'])} | "
                f"{_pm(r[f'predictive_{m}_test'])} |"
            )
    return "\n".join(rows)


def best_vs_random(results: Path) -> str:
    t = pd.read_csv(results / "tables" / "pruning.csv")
    rows = [
        "| dataset | removed | best of STN/SPN (on training error) | its resampled test, "
        "predictive | RND resampled test, predictive |",
        "|---|---|---|---|---|",
    ]
    for dataset, sub in t.groupby("dataset", sort=False):
        m = _metric(sub)
        sign = -1.0 if m == "acc" else 1.0
        res = sub[sub["stage"] == "resampled"]
        for rate in RATES:
            at = res[res["rate"] == rate]
            train = {
                c: sign * at.loc[at["criterion"] == c, f"predictive_{m}_train"].mean()
                for c in ("stn", "spn")
                if (at["criterion"] == c).any()
            }
            if not train or not (at["criterion"] == "rnd").any():
                continue
            best = min(train, key=train.get)
            rows.append(
                f"| {dataset} | {100 * rate:.0f}% | {best.upper()} | "
                f"{_pm(at.loc[at['criterion'] == best, f'predictive_{m}_test'])} | "
                f"{_pm(at.loc[at['criterion'] == 'rnd', f'predictive_{m}_test'])} |"
            )
    return "\n".join(rows)


CONVERGENCE = (
    ("diag_n_chains", "chains", "{:.0f}"),
    ("diag_parameter_rhat_median", "param R-hat (median)", "{:.2f}"),
    ("diag_parameter_ess_bulk_median", "param ESS bulk (median)", "{:.0f}"),
    ("diag_function_loglik_rhat", "loglik R-hat", "{:.2f}"),
    ("diag_function_loglik_ess_bulk", "loglik ESS bulk", "{:.0f}"),
    ("diag_function_pred_rhat_median", "pred R-hat (median)", "{:.2f}"),
    ("diag_function_pred_ess_bulk_median", "pred ESS bulk (median)", "{:.0f}"),
    ("diag_acceptance_mean", "acceptance", "{:.2f}"),
)


def convergence_table(results: Path) -> str:
    """Per dataset and stage, the median over runs of each run's convergence summary."""
    t = pd.read_csv(results / "tables" / "pruning.csv")
    cols = [c for c in CONVERGENCE if c[0] in t]
    rows = [
        "| dataset | stage | " + " | ".join(label for _, label, _ in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for dataset, sub in t.groupby("dataset", sort=False):
        for stage in ("full", "pruned", "resampled"):
            at = sub[sub["stage"] == stage]
            cells = []
            for col, _, fmt in cols:
                v = at[col].dropna()
                cells.append(fmt.format(v.median()) if len(v) else "")
            rows.append(f"| {dataset} | {stage} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(results: str) -> None:
    path = Path(results)
    for title, table in (
        ("Full posterior: chains, pooling and modes", full_table(path)),
        ("Pruned and resampled: test RMSE or accuracy (mean ± sd over runs)", stage_table(path)),
        ("STN/SPN (chosen on training error) against RND, after resampling", best_vs_random(path)),
        ("Convergence per stage (median over runs)", convergence_table(path)),
    ):
        print(f"### {title}\n\n{table}\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
