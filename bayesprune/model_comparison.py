"""PSIS-LOO model comparison of method A's stages (full, pruned, resampled posteriors).

Each stage's ``posterior.nc`` carries the pointwise log likelihood of the training set
(``log_likelihood.y``) and of the test set (``log_likelihood_test.y``), see
:func:`bayesprune.posterior.with_observations`. From them:

- ``elpd_loo``, ``se``, ``p_loo``: PSIS-LOO expected log pointwise predictive density of the
  training set (``az.loo``), its standard error and effective number of parameters;
- Pareto-k counts: ``k_good`` (k <= ArviZ's sample-size threshold ``good_k`` =
  min(1 - 1/log10(S), 0.7)), ``k_bad`` (good_k < k <= 1), ``k_very_bad`` (k > 1). Only with
  no bad k is ``elpd_loo`` reliable;
- ``elpd_waic``: WAIC's estimate of the same quantity;
- ``lpd_test``: the test log predictive density ``sum_i log (1/S) sum_s p(y_i | theta_s)``,
  the held-out counterpart of ``elpd_loo``.

"Pruning keeps generalisation" then reads: the pruned and resampled stages' ``elpd_loo``
(and ``lpd_test``) lie within a few standard errors of the full posterior's.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from bayesprune.arviz_setup import az

LOO_COLUMNS = [
    "n_train",
    "n_test",
    "n_draws",
    "elpd_loo",
    "se",
    "p_loo",
    "elpd_waic",
    "good_k",
    "k_good",
    "k_bad",
    "k_very_bad",
    "lpd_test",
    "lpd_test_se",
]


def heldout_lpd(idata: az.InferenceData) -> tuple[float, float]:
    """Test log predictive density (sum over test points) and its standard error
    ``sqrt(n) * sd(pointwise)``, from ``log_likelihood_test.y``."""
    if "log_likelihood_test" not in idata.groups():
        raise ValueError(
            "this posterior file has no log_likelihood_test group: it was written before "
            "model comparison existed; rerun its job (snakemake --forcerun <file>)"
        )
    ll = idata["log_likelihood_test"]["y"].transpose("chain", "draw", ...).values
    flat = ll.reshape(-1, ll.shape[-1]).astype(np.float64)
    pointwise = logsumexp(flat, axis=0) - np.log(flat.shape[0])
    return float(pointwise.sum()), float(np.sqrt(len(pointwise)) * pointwise.std(ddof=1))


def stage_scores(idata: az.InferenceData) -> dict[str, Any]:
    """PSIS-LOO, WAIC and test-set scores of one stage (keys: :data:`LOO_COLUMNS`)."""
    if "log_likelihood" not in idata.groups():
        raise ValueError(
            "this posterior file has no log_likelihood group: it was written before model "
            "comparison existed; rerun its job (snakemake --forcerun <file>)"
        )
    with warnings.catch_warnings():
        # ArviZ warns about high Pareto k and WAIC's variance; both are counted in the table
        warnings.simplefilter("ignore", UserWarning)
        loo = az.loo(idata, pointwise=True)
        waic = az.waic(idata)
    k = np.asarray(loo.pareto_k.values, dtype=np.float64)
    good_k = float(loo.good_k)
    lpd, lpd_se = heldout_lpd(idata)
    return {
        "n_train": int(loo.n_data_points),
        "n_test": int(idata["log_likelihood_test"]["y"].sizes["test_obs"]),
        "n_draws": int(loo.n_samples),
        "elpd_loo": float(loo.elpd_loo),
        "se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "elpd_waic": float(waic.elpd_waic),
        "good_k": good_k,
        "k_good": int((k <= good_k).sum()),
        "k_bad": int(((k > good_k) & (k <= 1.0)).sum()),
        "k_very_bad": int((k > 1.0).sum()),
        "lpd_test": lpd,
        "lpd_test_se": lpd_se,
    }


def score_table(runs: list[tuple[Mapping[str, Any], az.InferenceData]]) -> pd.DataFrame:
    """One row per run: its keys (e.g. dataset, rep, stage, criterion, rate) and its scores."""
    rows = [{**dict(keys), **stage_scores(idata)} for keys, idata in runs]
    return pd.DataFrame(rows)


def compare_stages(idatas: Mapping[str, az.InferenceData]) -> pd.DataFrame:
    """``az.compare`` of named stages (PSIS-LOO, stacking weights), best first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return az.compare(dict(idatas), ic="loo")


# ----------------------------------------------------------------------------- figure
STAGE_STYLES = {"pruned": ("--", "o", "none"), "resampled": ("-", "o", None)}


def _spread(values: pd.Series, se: pd.Series) -> tuple[float, float, float]:
    """Mean and error bar ends: the min-max range over runs, or +-1 SE with one run."""
    mean = float(values.mean())
    if len(values) > 1:
        return mean, mean - float(values.min()), float(values.max()) - mean
    return mean, float(se.iloc[0]), float(se.iloc[0])


def loo_figure(table: pd.DataFrame, title: str | None = None) -> Any:
    """PSIS-LOO ELPD (training set) and test log predictive density per observation, by
    pruning rate, criterion and stage, with the full posterior as the reference band.

    Every row of ``table`` (columns of :func:`score_table`: ``stage``, ``criterion``,
    ``rate`` and the scores) is one run; points are means over runs (replicates, and chains
    where present), bars their min-max range (one run: +-1 SE). A cross marks a mean over
    runs of which some have Pareto k above ``good_k`` (LOO unreliable there). Runs where PSIS
    failed outright (more than half the Pareto k above 1, e.g. masked draws of chains in
    different modes) are left out of the LOO panel, with a note saying how many.
    """
    from matplotlib.lines import Line2D

    from bayesprune import plots

    frame = table.copy()
    frame["rate"] = frame["rate"].astype(float)
    panels = [
        ("elpd_loo", "se", "n_train", "ELPD-LOO per point", "training set: PSIS-LOO"),
        ("lpd_test", "lpd_test_se", "n_test", "log predictive density per point", "test set"),
    ]
    criteria = [c for c in frame["criterion"].drop_duplicates() if c != "none"]
    rates = sorted(frame.loc[frame["stage"] != "full", "rate"].unique())
    with plots._style():
        fig = plots._figure(9.0, 3.8)
        axes = fig.subplots(1, 2)
        for ax, (col, se_col, n_col, label, panel_title) in zip(axes, panels, strict=True):
            per_point = frame[col] / frame[n_col]
            per_se = frame[se_col] / frame[n_col]
            # PSIS failed (most Pareto k > 1): the number says nothing, and would set the scale
            failed = (frame["k_very_bad"] > 0.5 * frame["n_train"]) & (col == "elpd_loo")
            full = frame["stage"] == "full"
            if full.any():
                mean, lo, hi = _spread(per_point[full], per_se[full])
                ax.axhspan(mean - lo, mean + hi, color="0.85", zorder=0)
                ax.axhline(mean, color="black", lw=1.4, zorder=1)
            step = min(np.diff(rates)) if len(rates) > 1 else 0.25
            for i, crit in enumerate(criteria):
                slot = 0.6 * step / max(len(criteria), 1)
                center = (i - (len(criteria) - 1) / 2) * slot
                color = plots.CRITERION_COLORS.get(crit, f"C{i}")
                for stage, (ls, marker, face) in STAGE_STYLES.items():
                    offset = center + (-0.2 if stage == "pruned" else 0.2) * slot
                    sel = (frame["stage"] == stage) & (frame["criterion"] == crit) & ~failed
                    xs, ys, errs, flagged = [], [], [[], []], []
                    for rate in rates:
                        rows = sel & np.isclose(frame["rate"], rate)
                        if not rows.any():
                            continue
                        mean, lo, hi = _spread(per_point[rows], per_se[rows])
                        xs.append(100 * rate + 100 * offset)
                        ys.append(mean)
                        errs[0].append(lo)
                        errs[1].append(hi)
                        bad = (frame.loc[rows, "k_bad"] + frame.loc[rows, "k_very_bad"]) > 0
                        flagged.append(bool(bad.any()))
                    if not xs:
                        continue
                    ax.errorbar(
                        xs,
                        ys,
                        yerr=errs,
                        color=color,
                        ls=ls,
                        marker=marker,
                        mfc=face or color,
                        ms=5,
                        lw=1.3,
                        capsize=2,
                    )
                    if col == "elpd_loo" and any(flagged):
                        fx = [x for x, f in zip(xs, flagged, strict=True) if f]
                        fy = [y for y, f in zip(ys, flagged, strict=True) if f]
                        ax.plot(fx, fy, "x", color="crimson", ms=8, mew=1.5, zorder=5)
            ax.set_xticks([100 * r for r in rates], [plots.rate_text(r) for r in rates])
            if rates:
                ax.set_xlim(100 * (rates[0] - 0.5 * step), 100 * (rates[-1] + 0.5 * step))
            ax.set_xlabel("parameters removed")
            ax.set_ylabel(label)
            ax.set_title(f"{panel_title} (higher is better)")
            if failed.any():
                stages_failed = ", ".join(sorted(set(frame.loc[failed, "stage"])))
                ax.text(
                    0.02,
                    0.03,
                    f"not shown: {int(failed.sum())} of {len(frame)} runs ({stages_failed}) where"
                    "\nPSIS-LOO failed (most Pareto k > 1); compare them on the test set",
                    transform=ax.transAxes,
                    fontsize=7.5,
                    color="crimson",
                    va="bottom",
                    bbox={"facecolor": "white", "alpha": 0.85, "lw": 0, "pad": 1.5},
                )
        handles = [
            Line2D([], [], color="black", lw=1.4, label="full posterior (band: +-1 SE)"),
            Line2D([], [], color="0.3", ls="--", marker="o", mfc="none", label="pruned"),
            Line2D([], [], color="0.3", ls="-", marker="o", label="resampled"),
            *[
                Line2D(
                    [],
                    [],
                    color=plots.CRITERION_COLORS.get(c, f"C{i}"),
                    lw=3,
                    label=plots.criterion_label(c),
                )
                for i, c in enumerate(criteria)
            ],
        ]
        if ((frame["k_bad"] + frame["k_very_bad"]) > 0).any():
            handles.append(
                Line2D(
                    [],
                    [],
                    color="crimson",
                    marker="x",
                    ls="none",
                    ms=8,
                    label="some Pareto k > good k (LOO unreliable)",
                )
            )
        fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False)
        if title:
            fig.suptitle(title)
    return fig


def table_markdown(table: pd.DataFrame) -> str:
    """The comparison table as Markdown: one row per run, counts as integers."""
    cols = [
        "dataset",
        "rep",
        "stage",
        "criterion",
        "rate",
        "elpd_loo",
        "se",
        "p_loo",
        "k_good",
        "k_bad",
        "k_very_bad",
        "lpd_test",
        "lpd_test_se",
    ]
    cols = [c for c in table.columns if c in cols] + [c for c in ("chain",) if c in table]
    shown = table[cols].copy()
    for c in ("elpd_loo", "se", "p_loo", "lpd_test", "lpd_test_se"):
        shown[c] = shown[c].map(lambda v: f"{v:.1f}")
    shown["rate"] = shown["rate"].map(lambda v: f"{100 * float(v):g}%")
    header = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in shown.values)
    return header + body
