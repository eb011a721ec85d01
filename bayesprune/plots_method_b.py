"""Method B's figures and headline table (Bayes-factor pruning during training, arXiv 2308.02451).

Each ``*_figure`` function takes pandas frames (the per-epoch log ``bayes_factor_epochs.csv``,
the final results ``bayes_factor.csv`` or the trade-off study ``bayes_factor_tradeoff.csv``)
and returns a matplotlib :class:`~matplotlib.figure.Figure`; :func:`save_figure` writes one
atomically. The training methods have one colour, marker and line style each
(:data:`METHOD_COLORS`); the dense (unpruned) network is a dark grey reference line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .bayes_factor import parse_rates_tried
from .plots import _empty, _figure, _ordered, _style, save_figure, table_html

__all__ = ["save_figure", "table_html"]

DENSE_COLOR = "#333333"
METHOD_LABELS = {
    "unpruned": "unpruned",
    "bayes_random": "Bayes-factor random",
    "bayes_magnitude": "Bayes-factor magnitude",
    "random": "random (no gate)",
    "magnitude": "magnitude (no gate)",
    "gradual_magnitude": "gradual magnitude",
    "oneshot_magnitude": "one-shot magnitude + fine-tuning",
}
METHOD_COLORS = {
    "unpruned": "#333333",
    "bayes_random": "#4c72b0",
    "bayes_magnitude": "#c44e52",
    "random": "#8eb4e3",
    "magnitude": "#e89a9c",
    "gradual_magnitude": "#55a868",
    "oneshot_magnitude": "#8172b3",
}
METHOD_LINESTYLES = {
    "random": "--",
    "magnitude": "--",
    "gradual_magnitude": "-.",
    "oneshot_magnitude": ":",
}
METHOD_MARKERS = {
    "unpruned": "s",
    "bayes_random": "o",
    "bayes_magnitude": "D",
    "random": "v",
    "magnitude": "^",
    "gradual_magnitude": "P",
    "oneshot_magnitude": "X",
}


def method_label(method: str) -> str:
    return METHOD_LABELS.get(str(method), str(method))


# ----------------------------------------------------------------------------- figures
def gate_text(settings: Mapping[str, Any], effective_n: float | None = None) -> str:
    """The gate's settings in words, e.g. ``r = 0.75 > 0.5, beta = 3, likelihood x 0.1 (N_eff
    135), prior variance 1``."""
    rates = settings.get("rates", [settings.get("rate")])
    rates_text = " > ".join(f"{float(r):g}" for r in rates if r is not None)
    scale = settings.get("likelihood_scale")
    if scale is None:
        lik = f"{settings.get('likelihood_reduction', 'sum')} likelihood"
    else:
        lik = f"likelihood x {float(scale):g}"
    if effective_n is not None and not pd.isna(effective_n):
        lik += f" (N_eff {float(effective_n):.4g})"
    text = f"r = {rates_text}, beta = {float(settings.get('beta', 3.0)):g}, {lik}"
    if "prior_sigma2" in settings:
        text += f", prior variance {float(settings['prior_sigma2']):g}"
    return text


def _methods(frame: pd.DataFrame) -> list[str]:
    return _ordered(frame["method"], list(METHOD_LABELS))


def _integer_x(ax: plt.Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _method_handles(methods: Sequence[str]) -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color=METHOD_COLORS.get(m, "0.5"),
            marker=METHOD_MARKERS.get(m, "o"),
            ms=5,
            ls=METHOD_LINESTYLES.get(m, "-"),
            label=method_label(m),
        )
        for m in methods
    ]


def bf_accuracy_figure(epochs: pd.DataFrame, title: str | None = None) -> Figure:
    """Method B: test and training accuracy per epoch per method (mean over replicates, min-max shaded)."""
    methods = _methods(epochs)
    with _style():
        fig = _figure(10.0, 4.0)
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
            _integer_x(ax)
        fig.legend(handles=_method_handles(methods), loc="outside right center", frameon=False)
        fig.suptitle(title or "Accuracy per epoch (mean over replicates; shaded: min-max)")
    return fig


def bf_sparsity_figure(epochs: pd.DataFrame, title: str | None = None) -> Figure:
    """Method B: sparsity of the prunable weights per epoch; filled markers where a pruning step
    was kept, crosses where a gated step was proposed and rejected. Thin lines are replicates."""
    methods = _methods(epochs)
    with _style():
        fig = _figure(9.0, 4.2)
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
        _integer_x(ax)
        ax.set_ylabel("sparsity of prunable weights (%)")
        ax.set_ylim(-2, 102)
        handles = _method_handles(methods) + [
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
        m for m in _methods(epochs) if epochs.loc[epochs["method"] == m, "log_bf"].notna().any()
    ]
    n = max(len(gated), 1)
    all_tries = pd.concat(
        [_tries(r) for _, r in epochs[epochs["method"].isin(gated)].groupby(["method", "rep"])]
        or [pd.DataFrame(columns=["rate"])]
    )
    rates = sorted({float(r) for r in all_tries["rate"]}, reverse=True)
    cmap = plt.get_cmap("viridis")
    rate_color = {r: cmap(i / max(len(rates) - 1, 1)) for i, r in enumerate(rates)}
    with _style():
        fig = _figure(4.6 * n + 0.4, 4.4)
        axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
        for ax, m in zip(axes, gated, strict=False):
            color = METHOD_COLORS.get(m, "0.5")
            for _, rep in epochs[epochs["method"] == m].groupby("rep"):
                rep = rep.sort_values("epoch")
                ax.plot(rep["epoch"], rep["log_bf_likelihood"], color="0.45", ls="--", lw=1.0)
                ax.plot(rep["epoch"], rep["log_bf_prior"], color="0.45", ls=":", lw=1.2)
                ax.plot(rep["epoch"], rep["log_bf"], color=color, lw=1.4)
                tries = _tries(rep)
                if tries.empty:  # a log without tried rates: the epoch's own log BF
                    acc = rep["accepted"].astype(bool)
                    tries = pd.DataFrame(
                        {
                            "epoch": rep["epoch"],
                            "rate": np.nan,
                            "log_bf": rep["log_bf"],
                            "kept": acc,
                        }
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
            _integer_x(ax)
        axes[0].set_ylabel("log Bayes factor (pruned vs current mask)")
        if not gated:
            _empty(axes[0], "no gated method in this run")
        handles = [
            Line2D(
                [], [], ls="", marker="o", mfc=rate_color[r], mec=rate_color[r], label=f"r = {r:g}"
            )
            for r in rates
        ] + [
            Line2D([], [], ls="", marker="o", mfc="0.6", mec="black", label="step kept"),
            Line2D([], [], ls="", marker="o", mfc="none", mec="0.4", label="step rejected"),
            Line2D([], [], color="0.45", ls="--", label="likelihood part"),
            Line2D([], [], color="0.45", ls=":", label="prior part"),
            Line2D([], [], color="#c44e52", label=f"log beta = {log_beta:.3f}"),
        ]
        fig.legend(
            handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False
        )
        fig.suptitle(title or "Bayes-factor gate per epoch (accept when log BF > log beta)")
    return fig


def bf_final_figure(finals: pd.DataFrame, title: str | None = None) -> Figure:
    """Method B: final test accuracy vs achieved sparsity of every method (small: replicates,
    large with whiskers: mean ± std across replicates); grey line: the dense network."""
    methods = _methods(finals)
    with _style():
        fig = _figure(8.0, 4.6)
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
        dense = _dense_line(ax, finals.loc[finals["method"] == "unpruned", "test_acc"])
        ax.set_xlabel("sparsity of prunable weights (%)")
        ax.set_ylabel("final test accuracy (%)")
        ax.set_xlim(-3, 103)
        handles = _method_handles(methods) + ([dense] if dense is not None else [])
        fig.legend(handles=handles, loc="outside right center", frameon=False)
        fig.suptitle(title or "Final test accuracy vs sparsity")
    return fig


def _dense_line(ax: plt.Axes, acc: pd.Series, label: str = "dense (unpruned)") -> Line2D | None:
    """A horizontal reference at the dense network's mean accuracy (%), shaded min-max."""
    acc = 100 * acc.astype(float).dropna()
    if acc.empty:
        return None
    ax.axhspan(acc.min(), acc.max(), color=DENSE_COLOR, alpha=0.12, lw=0)
    ax.axhline(acc.mean(), color=DENSE_COLOR, lw=1.2, ls="-")
    return Line2D([], [], color=DENSE_COLOR, lw=1.2, label=f"{label}: {acc.mean():.2f}%")


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
    gated_methods = [m for m in _methods(study) if m.startswith("bayes_")]
    base_methods = [m for m in _methods(study) if m in ("gradual_magnitude", "oneshot_magnitude")]
    gated = study[study["method"].isin(gated_methods)]
    varying = _varying_settings(gated)
    numbers = {v: i + 1 for i, v in enumerate(dict.fromkeys(gated["variant"]))}
    with _style():
        fig = _figure(12.5, 5.4)
        axes = fig.subplots(1, 2, sharex=True)
        handles: list[Line2D] = []
        for k, ax in enumerate(axes):
            dense = _dense_line(ax, study.loc[study["method"] == "unpruned", "test_acc"])
            for m in base_methods:
                color, marker = METHOD_COLORS.get(m, "0.5"), METHOD_MARKERS.get(m, "o")
                ls = METHOD_LINESTYLES.get(m, "-")
                sub = study[study["method"] == m]
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
                if k == 0:
                    handles.append(Line2D([], [], color=color, marker=marker, ms=5, ls=ls,
                                          label=method_label(m)))  # fmt: skip
            for m in gated_methods:
                color, marker = METHOD_COLORS.get(m, "0.5"), METHOD_MARKERS.get(m, "o")
                sub = study[study["method"] == m]
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
                if k == 0:
                    handles.append(Line2D([], [], color=color, marker=marker, ms=6, mec="black",
                                          label=method_label(m)))  # fmt: skip
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
            _empty(axes[0], "no trade-off runs")
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


# ----------------------------------------------------------------------------- table
def headline_method_b(finals: pd.DataFrame) -> pd.DataFrame:
    """Method B headline: per dataset and method, final test accuracy (%), sparsity (%) and
    kept parameters, mean ± std across replicates; accepted pruning steps (mean)."""
    from .tables import mean_pm

    frame = finals.copy()
    frame["test accuracy (%)"] = 100 * frame["test_acc"].astype(float)
    frame["sparsity (%)"] = 100 * frame["sparsity"].astype(float)
    frame["kept params"] = frame["kept_params"].astype(float)
    cols = ["test accuracy (%)", "sparsity (%)", "kept params"]
    if "accepted_steps" in frame.columns:
        frame["accepted steps"] = frame["accepted_steps"].astype(float)
        cols.append("accepted steps")
    frame["method"] = pd.Categorical(frame["method"], _methods(frame), ordered=True)
    frame = frame.sort_values(["dataset", "method"])
    frame["method"] = frame["method"].astype(str)
    return mean_pm(frame, ["dataset", "method"], cols, digits=4)
