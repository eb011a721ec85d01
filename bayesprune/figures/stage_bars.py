"""Method A's stage bars: test error after pruning and after resampling, per rate and criterion."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bayesprune.figures.style import (
    STAGE_COLORS,
    UNPRUNED_COLOR,
    empty_panel,
    error_values,
    new_figure,
    style,
)
from bayesprune.labels import CRITERION_LABELS, criterion_label, ordered, rate_text

ESTIMATES = [("point", "network at posterior mean"), ("predictive", "posterior predictive mean")]


def stage_bars_figure(
    table: pd.DataFrame, unpruned: pd.DataFrame | None = None, title: str | None = None
) -> Figure:
    """Pruned vs resampled test error per rate and criterion, next to the unpruned levels.

    ``table``: rows of ``pruning.csv`` for one dataset (``stage``, ``criterion``, ``rate``,
    ``rep`` and ``point_*``/``predictive_*`` metrics); ``unpruned``: rows of ``unpruned.csv``
    for the same dataset. Top row: point estimate; bottom row: posterior predictive mean. Bars
    are means over replicates, error bars their min-max range, dots the replicates. Dashed:
    the full posterior; dash-dotted: the unpruned deterministic network.
    """
    pruned_rows = table[table["stage"] != "full"]
    crits = ordered(pruned_rows["criterion"], list(CRITERION_LABELS))
    rates = sorted({float(r) for r in pruned_rows["rate"]})
    n = max(len(crits), 1)
    rng = np.random.default_rng(0)
    with style():
        fig = new_figure(max(3.0 * n, 4.5) + 0.6, 6.4)
        axes = fig.subplots(2, n, sharey="row", squeeze=False)
        for row, (est, est_label) in enumerate(ESTIMATES):
            err, ylabel = error_values(table, est)
            full_level = err[table["stage"] == "full"].mean()
            unp_level = np.nan
            if unpruned is not None and len(unpruned):
                unp_level = error_values(unpruned, "point")[0].mean()
            for col, crit in enumerate(crits):
                ax = axes[row, col]
                _bars(ax, table, err, crit, rates, rng)
                _levels(ax, full_level, unp_level)
                ax.set_xticks(np.arange(len(rates)), [rate_text(r) for r in rates])
                ax.set_xlim(-0.8, len(rates) - 0.2)
                if row == 0:
                    ax.set_title(criterion_label(crit))
                else:
                    ax.set_xlabel("parameters removed")
            axes[row, 0].set_ylabel(f"{ylabel}\n{est_label}")
        if not crits:
            empty_panel(axes[0, 0], "no pruned stages")
        fig.legend(
            handles=_legend(), loc="outside lower center", ncols=3 if n > 2 else 2, frameon=False
        )
        fig.suptitle(title or "Test error after pruning and after resampling")
    return fig


def _bars(
    ax: plt.Axes,
    table: pd.DataFrame,
    err: pd.Series,
    crit: str,
    rates: list[float],
    rng: np.random.Generator,
) -> None:
    """One criterion's pruned and resampled bars (mean, min-max whiskers) and their runs."""
    x = np.arange(len(rates))
    for j, stage in enumerate(("pruned", "resampled")):
        sel = (table["stage"] == stage) & (table["criterion"] == crit)
        vals = err[sel].groupby(table.loc[sel, "rate"].astype(float)).agg(["mean", "min", "max"])
        vals = vals.reindex(rates)
        off = (j - 0.5) * 0.38
        ax.bar(
            x + off,
            vals["mean"],
            width=0.36,
            color=STAGE_COLORS[stage],
            alpha=0.85,
            yerr=[vals["mean"] - vals["min"], vals["max"] - vals["mean"]],
            capsize=3,
            error_kw={"lw": 0.9},
        )
        for i, rate in enumerate(rates):
            pts = err[sel & (table["rate"].astype(float) == rate)].to_numpy()
            ax.scatter(
                x[i] + off + rng.uniform(-0.07, 0.07, pts.size),
                pts,
                s=9,
                color="white",
                edgecolor="black",
                lw=0.6,
                zorder=3,
            )


def _levels(ax: plt.Axes, full_level: float, unp_level: float) -> None:
    """References above the bars; a level of 0 (e.g. no test error) stays visible."""
    if np.isfinite(full_level):
        ax.axhline(full_level, color=STAGE_COLORS["full"], ls="--", lw=1.4, zorder=4)
    if np.isfinite(unp_level):
        ax.axhline(unp_level, color=UNPRUNED_COLOR, ls="-.", lw=1.4, zorder=4)
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -0.04 * (high - min(low, 0.0))), high)


def _legend() -> list:
    return [
        Patch(color=STAGE_COLORS["pruned"], label="pruned (full-posterior draws, masked)"),
        Patch(color=STAGE_COLORS["resampled"], label="resampled (MCMC of the pruned network)"),
        Line2D(
            [], [], color=STAGE_COLORS["full"], ls="--", label="full posterior (nothing removed)"
        ),
        Line2D(
            [], [], color=UNPRUNED_COLOR, ls="-.", label="unpruned network (Adam, deterministic)"
        ),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            mfc="white",
            mec="black",
            label="runs (bars: mean, whiskers: min-max)",
        ),
    ]
