"""Method A's pruning curves: test error against the share of parameters removed."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayesprune.figures.style import (
    CRITERION_COLORS,
    STAGE_COLORS,
    UNPRUNED_COLOR,
    empty_panel,
    error_values,
    new_figure,
    style,
)
from bayesprune.labels import CRITERION_LABELS, criterion_label, ordered


def pruning_curves_figure(
    curves: pd.DataFrame,
    rates: Sequence[float] = (),
    title: str | None = None,
    unpruned: pd.DataFrame | None = None,
) -> Figure:
    """Test error vs share of parameters removed, every criterion overlaid in one panel.

    ``curves``: rows of ``pruning_curves.csv`` for one dataset (``criterion``, ``rep``,
    ``step``, ``frac_pruned``, ``metric``, ``test_error``; any further key column such as
    ``chain`` makes more runs). Each run is a thin line, the mean over runs bold, their
    min-max range shaded, one colour per criterion. References: the full posterior (the
    curves' common start, nothing removed; black dashed) and, given ``unpruned`` (rows of
    ``unpruned.csv``), the dense deterministic network (grey dash-dotted). ``rates`` are
    marked as dotted vertical lines.
    """
    crits = ordered(curves["criterion"], list(CRITERION_LABELS))
    metric = str(curves["metric"].iloc[0]) if len(curves) else "rmse"
    scale = 1.0 if metric == "rmse" else 100.0
    ylabel = "test RMSE (modelled target scale)" if metric == "rmse" else "test error rate (%)"
    run_keys = [c for c in ("rep", "chain") if c in curves.columns]
    with style():
        fig = new_figure(7.0, 4.8)
        ax = fig.subplots()
        for i, crit in enumerate(crits):
            sub = curves[curves["criterion"] == crit]
            _criterion_curves(ax, sub, CRITERION_COLORS.get(crit, f"C{i}"), crit, run_keys, scale)
        refs = _references(ax, curves, unpruned, scale)
        for r in rates:
            ax.axvline(100 * float(r), color="0.5", ls=":", lw=0.9)
        ax.set_xlim(left=0)
        ax.set_xlabel("parameters removed (%)")
        ax.set_ylabel(ylabel)
        if not crits:
            empty_panel(ax, "no pruning curves")
        n_runs = len(curves.groupby(["criterion", *run_keys])) // max(len(crits), 1)
        fig.legend(
            handles=_legend(crits, refs, n_runs), loc="outside lower center", ncols=2, frameon=False
        )
        fig.suptitle(
            title or "Pruning curves: masked posterior mean, parameters removed in score order"
        )
    return fig


def _criterion_curves(
    ax: plt.Axes, sub: pd.DataFrame, color: str, crit: str, run_keys: list[str], scale: float
) -> None:
    """One criterion: every run thin, the mean over runs bold, their min-max range shaded."""
    groups = sub.groupby(run_keys) if run_keys else [(0, sub)]
    for _, run in groups:
        run = run.sort_values("step")
        ax.plot(
            100 * run["frac_pruned"], scale * run["test_error"], color=color, lw=0.6, alpha=0.35
        )
    agg = sub.groupby("step").agg(
        x=("frac_pruned", "mean"),
        mean=("test_error", "mean"),
        lo=("test_error", "min"),
        hi=("test_error", "max"),
    )
    ax.fill_between(
        100 * agg["x"], scale * agg["lo"], scale * agg["hi"], color=color, alpha=0.15, lw=0
    )
    ax.plot(100 * agg["x"], scale * agg["mean"], color=color, lw=2.0, label=criterion_label(crit))


def _references(
    ax: plt.Axes, curves: pd.DataFrame, unpruned: pd.DataFrame | None, scale: float
) -> list[Line2D]:
    """The full posterior's level (the curves' start) and the dense network's; their handles."""
    start = curves[curves["step"] == 0]["test_error"] if len(curves) else pd.Series([])
    refs = []
    if len(start):
        ax.axhline(scale * start.mean(), color=STAGE_COLORS["full"], ls="--", lw=1.2)
        refs.append(
            Line2D([], [], color=STAGE_COLORS["full"], ls="--", label="full posterior mean")
        )
    if unpruned is not None and len(unpruned):
        dense, _ = error_values(unpruned, "point")
        ax.axhline(float(dense.mean()), color=UNPRUNED_COLOR, ls="-.", lw=1.2)
        refs.append(Line2D([], [], color=UNPRUNED_COLOR, ls="-.", label="dense network (Adam)"))
    return refs


def _legend(crits: list[str], refs: list[Line2D], n_runs: int) -> list[Line2D]:
    return [
        *[
            Line2D([], [], color=CRITERION_COLORS.get(c, f"C{i}"), lw=2.0, label=criterion_label(c))
            for i, c in enumerate(crits)
        ],
        *refs,
        Line2D(
            [],
            [],
            color="0.4",
            lw=0.6,
            alpha=0.6,
            label=f"thin: each of {n_runs} run(s); band: min-max",
        ),
        Line2D([], [], color="0.5", ls=":", label="configured pruning rates"),
    ]
