"""Method B's figures (Bayes-factor pruning during training, arXiv 2308.02451): accuracy,
sparsity and the Bayes-factor gate per epoch (``bayes_factor_epochs.csv``), final accuracy
against sparsity (``bayes_factor.csv``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayesprune.bayes_factor import parse_rates_tried
from bayesprune.figures.method_b_style import (
    METHOD_COLORS,
    METHOD_LINESTYLES,
    METHOD_MARKERS,
    dense_line,
    integer_x,
    method_handles,
)
from bayesprune.figures.style import empty_panel, new_figure, style
from bayesprune.labels import method_label, ordered_methods


def bf_accuracy_figure(epochs: pd.DataFrame, title: str | None = None) -> Figure:
    """Method B: test and training accuracy per epoch per method (mean over replicates, min-max shaded)."""
    methods = ordered_methods(epochs)
    with style():
        fig = new_figure(10.0, 4.0)
        axes = fig.subplots(1, 2, sharex=True)
        for ax, col, label in (
            (axes[0], "test_acc", "test accuracy (%)"),
            (axes[1], "train_acc", "training accuracy (%)"),
        ):
            for m in methods:
                sub = epochs[epochs["method"] == m]
                agg = sub.groupby("epoch")[col].agg(["mean", "min", "max"]) * 100
                color = METHOD_COLORS.get(m, "0.5")
                ax.fill_between(agg.index, agg["min"], agg["max"], color=color, alpha=0.15, lw=0)
                ax.plot(
                    agg.index,
                    agg["mean"],
                    color=color,
                    marker=METHOD_MARKERS.get(m, "o"),
                    ms=4,
                    lw=1.4,
                    ls=METHOD_LINESTYLES.get(m, "-"),
                )
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            integer_x(ax)
        fig.legend(handles=method_handles(methods), loc="outside right center", frameon=False)
        fig.suptitle(title or "Accuracy per epoch (mean over replicates; shaded: min-max)")
    return fig


def bf_sparsity_figure(epochs: pd.DataFrame, title: str | None = None) -> Figure:
    """Method B: sparsity of the prunable weights per epoch; filled markers where a pruning step
    was kept, crosses where a gated step was proposed and rejected. Thin lines are replicates."""
    methods = ordered_methods(epochs)
    with style():
        fig = new_figure(9.0, 4.2)
        ax = fig.subplots()
        for m in methods:
            color = METHOD_COLORS.get(m, "0.5")
            for _, rep in epochs[epochs["method"] == m].groupby("rep"):
                rep = rep.sort_values("epoch")
                ax.plot(
                    rep["epoch"],
                    100 * rep["sparsity"],
                    color=color,
                    lw=1.2,
                    alpha=0.8,
                    ls=METHOD_LINESTYLES.get(m, "-"),
                )
                acc = rep["accepted"].astype(bool)
                ax.scatter(
                    rep.loc[acc, "epoch"],
                    100 * rep.loc[acc, "sparsity"],
                    color=color,
                    marker=METHOD_MARKERS.get(m, "o"),
                    s=28,
                    zorder=3,
                    edgecolor="black",
                    lw=0.4,
                )
                rejected = ~acc & rep["log_bf"].notna()
                ax.scatter(
                    rep.loc[rejected, "epoch"],
                    100 * rep.loc[rejected, "sparsity"],
                    color=color,
                    marker="x",
                    s=30,
                    zorder=3,
                )
        ax.set_xlabel("epoch")
        integer_x(ax)
        ax.set_ylabel("sparsity of prunable weights (%)")
        ax.set_ylim(-2, 102)
        handles = method_handles(methods) + [
            Line2D([], [], marker="o", ls="", color="0.5", mec="black", label="pruning step kept"),
            Line2D([], [], marker="x", ls="", color="0.3", label="gated step rejected"),
        ]
        fig.legend(handles=handles, loc="outside right center", frameon=False)
        fig.suptitle(title or "Sparsity per epoch")
    return fig


def _tries(rep: pd.DataFrame) -> pd.DataFrame:
    """One row per tried rate of a gated run: epoch, rate, log BF, kept (from ``rates_tried``)."""
    rows = []
    column = rep["rates_tried"] if "rates_tried" in rep.columns else pd.Series(dtype=str)
    for epoch, text, kept_rate in zip(
        rep["epoch"], column.reindex(rep.index), rep.get("rate", np.nan), strict=False
    ):
        for rate, lb in parse_rates_tried(text if isinstance(text, str) else ""):
            kept = isinstance(kept_rate, float) and math.isclose(rate, kept_rate)
            rows.append({"epoch": epoch, "rate": rate, "log_bf": lb, "kept": kept})
    return pd.DataFrame(rows, columns=["epoch", "rate", "log_bf", "kept"])


def bf_log_bf_figure(epochs: pd.DataFrame, log_beta: float, title: str | None = None) -> Figure:
    """Method B: log Bayes factor of every proposed step against the threshold log beta.

    One panel per gated method. Each epoch tries the rates largest first until one passes:
    every tried rate is a marker coloured by its rate (filled with a black edge: the step kept,
    hollow: rejected). The line is the log BF of the kept step, or of the last rate tried when
    all were rejected, with its likelihood (dashed) and prior (dotted) parts. Symmetric-log y
    axis (the summed likelihood makes log BF large).
    """
    gated = [
        m
        for m in ordered_methods(epochs)
        if epochs.loc[epochs["method"] == m, "log_bf"].notna().any()
    ]
    n = max(len(gated), 1)
    all_tries = pd.concat(
        [_tries(r) for _, r in epochs[epochs["method"].isin(gated)].groupby(["method", "rep"])]
        or [pd.DataFrame(columns=["rate"])]
    )
    rates = sorted({float(r) for r in all_tries["rate"]}, reverse=True)
    cmap = plt.get_cmap("viridis")
    rate_color = {r: cmap(i / max(len(rates) - 1, 1)) for i, r in enumerate(rates)}
    with style():
        fig = new_figure(4.6 * n + 0.4, 4.4)
        axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
        for ax, m in zip(axes, gated, strict=False):
            _gate_panel(ax, epochs[epochs["method"] == m], m, rate_color, log_beta)
        axes[0].set_ylabel("log Bayes factor (pruned vs current mask)")
        if not gated:
            empty_panel(axes[0], "no gated method in this run")
        handles = _gate_legend(rate_color, log_beta)
        fig.legend(
            handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False
        )
        fig.suptitle(title or "Bayes-factor gate per epoch (accept when log BF > log beta)")
    return fig


def _gate_panel(
    ax: plt.Axes, runs: pd.DataFrame, m: str, rate_color: Mapping[float, Any], log_beta: float
) -> None:
    """One gated method: per replicate the log BF and its parts per epoch, every tried rate."""
    color = METHOD_COLORS.get(m, "0.5")
    for _, rep in runs.groupby("rep"):
        rep = rep.sort_values("epoch")
        ax.plot(rep["epoch"], rep["log_bf_likelihood"], color="0.45", ls="--", lw=1.0)
        ax.plot(rep["epoch"], rep["log_bf_prior"], color="0.45", ls=":", lw=1.2)
        ax.plot(rep["epoch"], rep["log_bf"], color=color, lw=1.4)
        tries = _tries(rep)
        if tries.empty:  # a log without tried rates: the epoch's own log BF
            acc = rep["accepted"].astype(bool)
            tries = pd.DataFrame(
                {"epoch": rep["epoch"], "rate": np.nan, "log_bf": rep["log_bf"], "kept": acc}
            )
        for kept, sub in tries.groupby("kept"):
            colors = [rate_color.get(r, color) for r in sub["rate"]]
            ax.scatter(
                sub["epoch"],
                sub["log_bf"],
                facecolor=colors if kept else "none",
                edgecolor="black" if kept else colors,
                s=42 if kept else 26,
                lw=0.7 if kept else 1.2,
                zorder=4 if kept else 3,
            )
    ax.axhline(log_beta, color="#c44e52", lw=1.3)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_title(method_label(m))
    ax.set_xlabel("epoch")
    integer_x(ax)


def _gate_legend(rate_color: Mapping[float, Any], log_beta: float) -> list[Line2D]:
    return [
        Line2D([], [], ls="", marker="o", mfc=c, mec=c, label=f"r = {r:g}")
        for r, c in rate_color.items()
    ] + [
        Line2D([], [], ls="", marker="o", mfc="0.6", mec="black", label="step kept"),
        Line2D([], [], ls="", marker="o", mfc="none", mec="0.4", label="step rejected"),
        Line2D([], [], color="0.45", ls="--", label="likelihood part"),
        Line2D([], [], color="0.45", ls=":", label="prior part"),
        Line2D([], [], color="#c44e52", label=f"log beta = {log_beta:.3f}"),
    ]


def bf_final_figure(finals: pd.DataFrame, title: str | None = None) -> Figure:
    """Method B: final test accuracy vs achieved sparsity of every method (small: replicates,
    large with whiskers: mean ± std across replicates); grey line: the dense network."""
    methods = ordered_methods(finals)
    with style():
        fig = new_figure(8.0, 4.6)
        ax = fig.subplots()
        for m in methods:
            sub = finals[finals["method"] == m]
            x, y = 100 * sub["sparsity"].astype(float), 100 * sub["test_acc"].astype(float)
            color, marker = METHOD_COLORS.get(m, "0.5"), METHOD_MARKERS.get(m, "o")
            ax.scatter(x, y, color=color, marker=marker, s=18, alpha=0.5)
            ax.errorbar(
                x.mean(),
                y.mean(),
                xerr=x.std(ddof=1) if len(sub) > 1 else None,
                yerr=y.std(ddof=1) if len(sub) > 1 else None,
                color=color,
                marker=marker,
                ms=9,
                mec="black",
                mew=0.6,
                capsize=3,
            )
        dense = dense_line(ax, finals.loc[finals["method"] == "unpruned", "test_acc"])
        ax.set_xlabel("sparsity of prunable weights (%)")
        ax.set_ylabel("final test accuracy (%)")
        ax.set_xlim(-3, 103)
        handles = method_handles(methods) + ([dense] if dense is not None else [])
        fig.legend(handles=handles, loc="outside right center", frameon=False)
        fig.suptitle(title or "Final test accuracy vs sparsity")
    return fig
