"""Method A's model comparison figure: PSIS-LOO ELPD (training set) and test log predictive
density per observation, by pruning rate, criterion and stage (``loo.csv`` rows, see
:func:`bayesprune.model_comparison.score_table`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayesprune.figures.style import CRITERION_COLORS, new_figure, style
from bayesprune.labels import criterion_label, rate_text

STAGE_STYLES = {"pruned": ("--", "o", "none"), "resampled": ("-", "o", None)}
PANELS = [
    ("elpd_loo", "se", "n_train", "ELPD-LOO per point", "training set: PSIS-LOO"),
    ("lpd_test", "lpd_test_se", "n_test", "log predictive density per point", "test set"),
]


def loo_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """PSIS-LOO ELPD (training set) and test log predictive density per observation, by
    pruning rate, criterion and stage, with the full posterior as the reference band.

    Every row of ``table`` (columns of :func:`bayesprune.model_comparison.score_table`: ``stage``, ``criterion``,
    ``rate`` and the scores) is one run; points are means over runs (replicates, and chains
    where present), bars their min-max range (one run: +-1 SE). A cross marks a mean over
    runs of which some have Pareto k above ``good_k`` (LOO unreliable there). Runs where PSIS
    failed outright (more than half the Pareto k above 1, e.g. masked draws of chains in
    different modes) are left out of the LOO panel, with a note saying how many.
    """
    frame = table.copy()
    frame["rate"] = frame["rate"].astype(float)
    criteria = [c for c in frame["criterion"].drop_duplicates() if c != "none"]
    rates = sorted(frame.loc[frame["stage"] != "full", "rate"].unique())
    with style():
        fig = new_figure(9.0, 3.8)
        axes = fig.subplots(1, 2)
        for ax, panel in zip(axes, PANELS, strict=True):
            _panel(ax, frame, panel, criteria, rates)
        fig.legend(
            handles=_legend(frame, criteria), loc="outside lower center", ncol=4, frameon=False
        )
        if title:
            fig.suptitle(title)
    return fig


def _spread(values: pd.Series, se: pd.Series) -> tuple[float, float, float]:
    """Mean and error bar ends: the min-max range over runs, or +-1 SE with one run."""
    mean = float(values.mean())
    if len(values) > 1:
        return mean, mean - float(values.min()), float(values.max()) - mean
    return mean, float(se.iloc[0]), float(se.iloc[0])


def _panel(
    ax: plt.Axes, frame: pd.DataFrame, panel: tuple, criteria: list[str], rates: list[float]
) -> None:
    """One score per point: the full posterior's band, each criterion's stages by rate."""
    col, se_col, n_col, label, panel_title = panel
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
        color = CRITERION_COLORS.get(crit, f"C{i}")
        for stage, stage_style in STAGE_STYLES.items():
            offset = center + (-0.2 if stage == "pruned" else 0.2) * slot
            sel = (frame["stage"] == stage) & (frame["criterion"] == crit) & ~failed
            _stage_points(
                ax, frame, sel, (per_point, per_se), rates, offset, color, stage_style, col
            )
    ax.set_xticks([100 * r for r in rates], [rate_text(r) for r in rates])
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


def _stage_points(
    ax: plt.Axes,
    frame: pd.DataFrame,
    sel: pd.Series,
    scores: tuple[pd.Series, pd.Series],
    rates: list[float],
    offset: float,
    color: str,
    stage_style: tuple,
    col: str,
) -> None:
    """One criterion's stage: mean and spread per rate; a cross where some Pareto k is bad."""
    per_point, per_se = scores
    ls, marker, face = stage_style
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
        return
    ax.errorbar(
        xs, ys, yerr=errs, color=color, ls=ls, marker=marker, mfc=face or color, ms=5, lw=1.3,
        capsize=2,
    )  # fmt: skip
    if col == "elpd_loo" and any(flagged):
        fx = [x for x, f in zip(xs, flagged, strict=True) if f]
        fy = [y for y, f in zip(ys, flagged, strict=True) if f]
        ax.plot(fx, fy, "x", color="crimson", ms=8, mew=1.5, zorder=5)


def _legend(frame: pd.DataFrame, criteria: list[str]) -> list[Line2D]:
    handles = [
        Line2D([], [], color="black", lw=1.4, label="full posterior (band: +-1 SE)"),
        Line2D([], [], color="0.3", ls="--", marker="o", mfc="none", label="pruned"),
        Line2D([], [], color="0.3", ls="-", marker="o", label="resampled"),
        *[
            Line2D([], [], color=CRITERION_COLORS.get(c, f"C{i}"), lw=3, label=criterion_label(c))
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
    return handles
