"""Method B's trade-off study (``bayes_factor_tradeoff.csv``): test accuracy against the
compression ratio of the gated variants and the magnitude-pruning baselines."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayesprune.figures.method_b_style import (
    METHOD_COLORS,
    METHOD_LINESTYLES,
    METHOD_MARKERS,
    dense_line,
)
from bayesprune.figures.style import empty_panel, new_figure, style
from bayesprune.labels import method_label, ordered_methods


def tradeoff_figure(study: pd.DataFrame, title: str | None = None, zoom: float = 10.0) -> Figure:
    """Method B trade-off study: test accuracy vs compression ratio (log x axis).

    Left: every run; right: the same, zoomed on the ``zoom`` points below the dense network.
    One line per method: the gated methods join their variants (mean over seeds, whiskers:
    min-max over seeds on both axes), ordered by compression, each variant numbered (the key
    below the legend names the settings that differ between variants); gradual and one-shot
    magnitude pruning join the fixed baseline sparsities (mean, shaded min-max over seeds),
    their runs at the sparsity of a gated run are the small markers. The dense network is the
    grey reference line (shaded: its seed range).
    """
    study = study.copy()
    study["test_pct"] = 100 * study["test_acc"].astype(float)
    methods = ordered_methods(study)
    gated_methods = [m for m in methods if m.startswith("bayes_")]
    base_methods = [m for m in methods if m in ("gradual_magnitude", "oneshot_magnitude")]
    gated = study[study["method"].isin(gated_methods)]
    varying = _varying_settings(gated)
    numbers = {v: i + 1 for i, v in enumerate(dict.fromkeys(gated["variant"]))}
    with style():
        fig = new_figure(12.5, 5.4)
        axes = fig.subplots(1, 2, sharex=True)
        handles: list[Line2D] = []
        for k, ax in enumerate(axes):
            dense = dense_line(ax, study.loc[study["method"] == "unpruned", "test_acc"])
            for m in base_methods:
                handle = _baseline(ax, study[study["method"] == m], m)
                if k == 0:
                    handles.append(handle)
            for m in gated_methods:
                handle = _gated(ax, study[study["method"] == m], m, numbers)
                if k == 0:
                    handles.append(handle)
            if dense is not None and k == 0:
                handles.insert(0, dense)
            ax.set_xscale("log")
            ax.set_xlabel("compression ratio (all / kept parameters)")
        axes[0].set_ylabel("test accuracy (%)")
        axes[0].set_ylim(0, 102)
        axes[0].set_title("every run")
        dense_acc = study.loc[study["method"] == "unpruned", "test_pct"]
        top = float(dense_acc.max()) if len(dense_acc) else float(study["test_pct"].max())
        axes[1].set_ylim(top - zoom, top + 1.0)
        axes[1].set_title(f"zoom: within {zoom:g} points of the dense network")
        if study.empty:
            empty_panel(axes[0], "no trade-off runs")
        key = [
            f"{numbers[v]}: {_short_label(gated[gated['variant'] == v].iloc[0], varying) or v}"
            for v in numbers
        ]
        fig.legend(handles=handles, loc="outside right upper", frameon=False)
        if key:
            handles_key = [Line2D([], [], ls="", label=text) for text in key]
            fig.legend(handles=handles_key, loc="outside right lower", frameon=False,
                       title="gated variants", handlelength=0, fontsize=7)  # fmt: skip
        fig.suptitle(title or "Test accuracy vs compression ratio")
    return fig


def _baseline(ax: plt.Axes, sub: pd.DataFrame, m: str) -> Line2D:
    """A magnitude baseline: its fixed sparsities joined (mean, shaded min-max over seeds),
    its runs at a gated run's sparsity as small markers; its legend entry."""
    color, marker = METHOD_COLORS.get(m, "0.5"), METHOD_MARKERS.get(m, "o")
    ls = METHOD_LINESTYLES.get(m, "-")
    fixed = sub[~sub["matched"].astype(bool)]
    agg = fixed.groupby("target_sparsity").agg(
        x=("compression", "mean"), y=("test_pct", "mean"), lo=("test_pct", "min"),
        hi=("test_pct", "max"),
    ).sort_values("x")  # fmt: skip
    if not agg.empty:
        ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.15, lw=0)
        ax.plot(agg["x"], agg["y"], color=color, marker=marker, ms=5, ls=ls, lw=1.4)
    match = sub[sub["matched"].astype(bool)]
    ax.scatter(match["compression"], match["test_pct"], color=color, marker=marker,
               s=16, alpha=0.7, lw=0)  # fmt: skip
    return Line2D([], [], color=color, marker=marker, ms=5, ls=ls, label=method_label(m))


def _gated(ax: plt.Axes, sub: pd.DataFrame, m: str, numbers: dict[str, int]) -> Line2D:
    """A gated method: its variants joined in order of compression (mean, min-max whiskers
    over seeds on both axes), each numbered; its legend entry."""
    color, marker = METHOD_COLORS.get(m, "0.5"), METHOD_MARKERS.get(m, "o")
    agg = sub.groupby("variant", sort=False).agg(
        x=("compression", "mean"), xlo=("compression", "min"),
        xhi=("compression", "max"), y=("test_pct", "mean"), lo=("test_pct", "min"),
        hi=("test_pct", "max"),
    ).sort_values("x")  # fmt: skip
    ax.errorbar(
        agg["x"],
        agg["y"],
        xerr=[agg["x"] - agg["xlo"], agg["xhi"] - agg["x"]],
        yerr=[agg["y"] - agg["lo"], agg["hi"] - agg["y"]],
        color=color,
        marker=marker,
        ms=7,
        mec="black",
        mew=0.5,
        capsize=2,
        lw=1.4,
        elinewidth=0.8,
    )
    # stack the numbers of variants that land on the same point
    seen: dict[tuple[float, float], int] = {}
    for variant, row in agg.iterrows():
        spot = (round(float(row["x"]), 2), round(float(row["y"]), 1))
        n = seen.get(spot, 0)
        seen[spot] = n + 1
        ax.annotate(str(numbers[variant]), (row["x"], row["y"]),
                    textcoords="offset points", xytext=(5 + 7 * n, 4), fontsize=7,
                    color=color, fontweight="bold")  # fmt: skip
    return Line2D([], [], color=color, marker=marker, ms=6, mec="black", label=method_label(m))


def _varying_settings(gated: pd.DataFrame) -> list[str]:
    cols = ["criterion", "beta", "rates", "likelihood_scale", "prior_sigma2"]
    return [c for c in cols if c in gated.columns and gated[c].astype(str).nunique() > 1]


SETTING_SHORT = {
    "criterion": "",
    "beta": "beta ",
    "rates": "r ",
    "likelihood_scale": "scale ",
    "prior_sigma2": "prior var ",
}


def _short_label(row: pd.Series, varying: Sequence[str]) -> str:
    parts = []
    for c in varying:
        v = row[c]
        text = f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
        parts.append(f"{SETTING_SHORT.get(c, c + ' ')}{text}")
    return " ".join(parts)
