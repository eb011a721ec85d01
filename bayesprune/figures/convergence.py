"""Method A's convergence figures: R-hat and bulk ESS per stage (parameter and function
space), and the densities of the parameters' posterior means per stage."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bayesprune.figures.style import STAGE_COLORS, new_figure, style
from bayesprune.labels import CRITERION_LABELS, STAGES, criterion_label, ordered, rate_text

QUANTITY_MARKERS = {
    "loglik": ("o", "log likelihood"),
    "lp": ("s", "log posterior"),
    "pred": ("^", "predictions (worst test point)"),
}
DIAGNOSTIC_ROWS = [
    ("rhat", "parameter R-hat", True),
    ("ess_bulk", "parameter bulk ESS (draws)", True),
    ("rhat", "function-space R-hat", False),
    ("ess_bulk", "function-space bulk ESS (draws)", False),
]


def diagnostics_figure(
    params: pd.DataFrame,
    functions: pd.DataFrame,
    rhat_threshold: float = 1.01,
    title: str | None = None,
) -> Figure:
    """R-hat and bulk-ESS distributions per stage, in parameter and in function space.

    ``params``: one row per parameter, stage and replicate (``stage``, ``criterion``, ``rate``,
    ``rep``, ``rhat``, ``ess_bulk``; pruned/constant parameters with NaN are ignored; ``full``
    rows are shown in every criterion's panel). ``functions``: one row per quantity, stage and
    replicate (``quantity`` in ``loglik``, ``lp``, ``pred``; ``rhat``, ``ess_bulk``).
    Boxes: parameters; markers: function-space quantities.
    """
    stage_rows = pd.concat(
        [params[["stage", "criterion", "rate"]], functions[["stage", "criterion", "rate"]]]
    )
    not_full = stage_rows["stage"] != "full"
    crits = ordered(stage_rows.loc[not_full, "criterion"], list(CRITERION_LABELS))
    rates = sorted({float(r) for r in stage_rows.loc[not_full, "rate"]})
    pos = _positions(rates)
    n = max(len(crits), 1)
    rng = np.random.default_rng(0)
    with style():
        fig = new_figure(max(3.3 * n, 5.0) + 0.6, 10.0)
        axes = fig.subplots(len(DIAGNOSTIC_ROWS), n, sharey="row", sharex=True, squeeze=False)
        for r, (key, label, is_param) in enumerate(DIAGNOSTIC_ROWS):
            src = params if is_param else functions
            for c, crit in enumerate(crits or [None]):
                ax = axes[r, c]
                sub = src[(src["stage"] == "full") | (src["criterion"] == crit)]
                any_data = _diagnostics_panel(ax, sub, key, is_param, pos, rng)
                if key == "rhat":
                    _rhat_scale(ax, sub, rhat_threshold)
                elif any_data:
                    _log_axis(ax)
                else:
                    ax.text(
                        0.5,
                        0.5,
                        "undefined (e.g. one chain)",
                        ha="center",
                        va="center",
                        transform=ax.transAxes,
                        color="0.4",
                    )
                if r == 0 and crit is not None:
                    ax.set_title(criterion_label(crit))
                ax.set_xticks(range(len(rates) + 1), ["full", *[rate_text(x) for x in rates]])
            axes[r, 0].set_ylabel(label)
        for ax in axes[-1]:
            ax.set_xlabel("parameters removed\n(per rate: left pruned, right resampled)")
        fig.legend(
            handles=_legend(rhat_threshold), loc="outside lower center", ncols=4, frameon=False
        )
        fig.suptitle(
            title
            or "Convergence diagnostics per stage (ArviZ rank-normalised split R-hat, bulk ESS)"
        )
    return fig


def _legend(rhat_threshold: float) -> list:
    handles = [Patch(color=STAGE_COLORS[s], label=s) for s in STAGES]
    handles += [
        Line2D([], [], marker=m, ls="", color="0.5", mec="black", label=lab)
        for m, lab in QUANTITY_MARKERS.values()
    ]
    handles.append(Line2D([], [], color="#c44e52", ls="--", label=f"R-hat {rhat_threshold}"))
    return handles


def _positions(rates: Sequence[float]) -> dict[tuple[str, float], float]:
    """x of each (stage, rate): full at 0, per rate pruned left and resampled right."""
    pos = {("full", 0.0): 0.0}
    for i, r in enumerate(rates):
        pos[("pruned", float(r))] = i + 1 - 0.2
        pos[("resampled", float(r))] = i + 1 + 0.2
    return pos


def _diagnostics_panel(
    ax: plt.Axes,
    sub: pd.DataFrame,
    key: str,
    is_param: bool,
    pos: dict[tuple[str, float], float],
    rng: np.random.Generator,
) -> bool:
    """One criterion's stages: boxes of parameters, or markers of function-space quantities;
    whether anything was drawn."""
    any_data = False
    for (stage, rate), grp in sub.groupby(["stage", sub["rate"].astype(float)], sort=False):
        x = pos.get((stage, 0.0 if stage == "full" else float(rate)))
        if x is None:
            continue
        color = STAGE_COLORS.get(stage, "0.5")
        if is_param:
            any_data |= _boxes(ax, grp[key], x, color)
        else:
            any_data |= _quantities(ax, grp, key, x, color, rng)
    return any_data


def _boxes(ax: plt.Axes, values: pd.Series, x: float, color: str) -> bool:
    vals = values.astype(float).to_numpy()
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return False
    bp = ax.boxplot(
        vals,
        positions=[x],
        widths=0.32,
        patch_artist=True,
        showfliers=True,
        flierprops={"markersize": 2, "alpha": 0.5},
        medianprops={"color": "black"},
    )
    for box in bp["boxes"]:
        box.set_facecolor(color)
        box.set_alpha(0.8)
    return True


def _quantities(
    ax: plt.Axes, grp: pd.DataFrame, key: str, x: float, color: str, rng: np.random.Generator
) -> bool:
    any_data = False
    for q, (marker, _) in QUANTITY_MARKERS.items():
        vals = grp.loc[grp["quantity"] == q, key].astype(float).to_numpy()
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            continue
        any_data = True
        ax.scatter(
            x + rng.uniform(-0.08, 0.08, vals.size),
            vals,
            marker=marker,
            s=22,
            color=color,
            edgecolor="black",
            lw=0.5,
            alpha=0.85,
            zorder=3,
        )
    return any_data


def _rhat_scale(ax: plt.Axes, sub: pd.DataFrame, threshold: float) -> None:
    """The R-hat threshold line and how many values lie above it; a linear axis."""
    ax.axhline(threshold, color="#c44e52", ls="--", lw=1.0)
    # linear with several ticks: values up to 2 and more stay readable
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, min_n_ticks=4))
    vals = sub["rhat"].astype(float).to_numpy()
    vals = vals[np.isfinite(vals)]
    if vals.size:
        above = int((vals > threshold).sum())
        ax.text(
            0.02,
            0.97,
            f"{above} of {vals.size} above {threshold:g}",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=7.5,
            color="#c44e52" if above else "0.3",
            bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5},
        )


def _log_axis(ax: plt.Axes) -> None:
    """Log scale with plain tick labels (linear when some value is not positive)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.dataLim.y0, ax.dataLim.y1
    if lo <= 0 or not np.isfinite(lo):
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    if hi / lo < 10:
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 3, 5)))
    elif hi / lo < 1000:  # at least a few labelled ticks, not a lone "100"
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))


def parameter_density_figure(params: pd.DataFrame, title: str | None = None) -> Figure:
    """Density of the parameters' posterior means per stage; rows rates, columns criteria.

    ``params``: one row per parameter, stage and replicate (``stage``, ``criterion``, ``rate``,
    ``rep``, ``mean``, ``pruned``); pruned parameters (exactly 0) are left out of the pruned and
    resampled densities and counted in the panel instead. Replicates are pooled.
    """
    non_full = params[params["stage"] != "full"]
    crits = ordered(non_full["criterion"], list(CRITERION_LABELS))
    rates = sorted({float(r) for r in non_full["rate"]})
    full_vals = params.loc[params["stage"] == "full", "mean"].astype(float).to_numpy()
    nr, nc = max(len(rates), 1), max(len(crits), 1)
    with style():
        fig = new_figure(3.2 * nc + 0.5, 2.4 * nr + 1.0)
        axes = fig.subplots(nr, nc, sharex=True, squeeze=False)
        for i, rate in enumerate(rates or [None]):
            for j, crit in enumerate(crits or [None]):
                ax = axes[i, j]
                _kde(ax, full_vals, STAGE_COLORS["full"], "-")
                n_pruned = 0
                for stage, ls in (("pruned", "--"), ("resampled", "-")):
                    sel = (
                        (params["stage"] == stage)
                        & (params["criterion"] == crit)
                        & (params["rate"].astype(float) == rate)
                    )
                    sub = params[sel]
                    kept = ~sub["pruned"].astype(bool)
                    n_pruned = max(n_pruned, int((~kept).sum()))
                    _kde(
                        ax, sub.loc[kept, "mean"].astype(float).to_numpy(), STAGE_COLORS[stage], ls
                    )
                if crit is not None:
                    short = criterion_label(crit).split(" ")[0]
                    ax.set_title(
                        f"{short}, {rate_text(rate)} removed\n({n_pruned} pruned zeros not shown)"
                    )
                ax.set_ylabel("density" if j == 0 else "")
                if i == nr - 1:
                    ax.set_xlabel("posterior mean of a weight or bias")
        handles = [
            Line2D([], [], color=STAGE_COLORS["full"], label="full posterior (all parameters)"),
            Line2D([], [], color=STAGE_COLORS["pruned"], ls="--", label="pruned (kept parameters)"),
            Line2D([], [], color=STAGE_COLORS["resampled"], label="resampled (kept parameters)"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        fig.suptitle(title or "Parameter values per stage (posterior means, replicates pooled)")
    return fig


def _kde(ax: plt.Axes, vals: np.ndarray, color: str, ls: str) -> None:
    """A kernel density of the finite ``vals``; one line where they are all equal."""
    vals = vals[np.isfinite(vals)]
    if vals.size >= 2 and np.ptp(vals) > 0:
        sns.kdeplot(
            x=vals, ax=ax, color=color, ls=ls, lw=1.6, bw_adjust=0.7, cut=0, warn_singular=False
        )
    elif vals.size:
        ax.axvline(float(vals[0]), color=color, ls=ls)
