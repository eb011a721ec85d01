"""Every figure of the workflow, and the headline tables of the report.

Each ``*_figure`` function takes data (pandas frames, numpy arrays) and returns a matplotlib
:class:`~matplotlib.figure.Figure`; none of them reads or writes files. :func:`save_figure`
writes one atomically (PNG at 150 dpi, temporary file in the destination folder, then
renamed). Figures have a fixed size in inches (no tight bounding box), so a figure of ``w x h``
inches is exactly ``150 w x 150 h`` pixels.

Conventions shared by all method-A figures:

- *Test error* is the RMSE on the modelled (scaled) target for regression and the error rate
  (100 - accuracy, in %) for classification, so lower is better in every panel.
- *Point* = the network at the (masked) posterior mean (what the paper reports);
  *predictive* = the posterior predictive mean over the (masked) draws.
- Stages: ``full`` (the full posterior, nothing removed), ``pruned`` (the full posterior's
  draws with the pruned coordinates set to 0), ``resampled`` (MCMC of the pruned network).
  Colours: full dark grey, pruned orange, resampled blue; the unpruned deterministic network
  (trained with Adam) is a grey dash-dotted line.

Method-B figures and tables are in :mod:`bayesprune.plots_method_b`.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
from collections.abc import Iterator, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .io import atomic_path  # noqa: E402

DPI = 150
STAGES = ("full", "pruned", "resampled")
STAGE_COLORS = {"full": "#333333", "pruned": "#dd8452", "resampled": "#4c72b0"}
UNPRUNED_COLOR = "#8c8c8c"
RF_COLOR = "#55a868"
CRITERION_COLORS = {"stn": "#4c72b0", "spn": "#dd8452", "rnd": "#8c8c8c", "mag": "#55a868"}
CRITERION_LABELS = {
    "stn": "STN (signal-to-noise)",
    "spn": "SPN (signal-plus-noise)",
    "rnd": "RND (random)",
    "mag": "MAG (magnitude)",
}


# ----------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _style() -> Iterator[None]:
    """Seaborn's white grid at a font size readable at 150 dpi, for this block only."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.8):
        yield


def _figure(width: float, height: float) -> Figure:
    return plt.figure(figsize=(width, height), dpi=DPI, layout="constrained")


PNG_COLORS = 64  # palette size of saved figures (see save_figure)


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = DPI) -> None:
    """Write ``fig`` as a PNG atomically (temporary file beside ``path``, then rename); close it.

    The image is stored with a palette of :data:`PNG_COLORS` colours (median cut, no
    dithering): line plots use a handful of colours plus their anti-aliasing, so it looks
    the same and is about 3x smaller than 24-bit RGB (the default config's 65 figures: 4.6 MB
    in all), which keeps the HTML report small. Size and resolution (``dpi``) are
    unchanged.
    """
    import io

    from PIL import Image

    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        buffer.seek(0)
        with Image.open(buffer) as image:
            paletted = image.convert("RGB").quantize(
                colors=PNG_COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
        with atomic_path(path) as tmp:
            paletted.save(tmp, format="PNG", optimize=True, dpi=(dpi, dpi))
    finally:
        plt.close(fig)


def criterion_label(criterion: str) -> str:
    return CRITERION_LABELS.get(str(criterion), str(criterion).upper())


def rate_text(rate: float) -> str:
    """``0.5`` -> ``'50%'``."""
    return f"{100 * float(rate):g}%"


def task_of(frame: pd.DataFrame) -> str:
    """``regression`` when the frame has test RMSE values, else ``classification``."""
    for col in ("point_rmse_test", "rmse_test"):
        if col in frame.columns and frame[col].notna().any():
            return "regression"
    return "classification"


def error_values(frame: pd.DataFrame, estimate: str = "point") -> tuple[pd.Series, str]:
    """Test error of each row and its axis label: RMSE, or error rate in % (100 - accuracy)."""
    if task_of(frame) == "regression":
        return frame[f"{estimate}_rmse_test"].astype(float), "test RMSE (modelled target scale)"
    return 100.0 * (1.0 - frame[f"{estimate}_acc_test"].astype(float)), "test error rate (%)"


def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _ordered(values: Sequence, preferred: Sequence) -> list:
    seen = list(dict.fromkeys(values))
    return [v for v in preferred if v in seen] + [v for v in seen if v not in preferred]


# ----------------------------------------------------------------------------- method A
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
    crits = _ordered(curves["criterion"], list(CRITERION_LABELS))
    metric = str(curves["metric"].iloc[0]) if len(curves) else "rmse"
    scale = 1.0 if metric == "rmse" else 100.0
    ylabel = "test RMSE (modelled target scale)" if metric == "rmse" else "test error rate (%)"
    run_keys = [c for c in ("rep", "chain") if c in curves.columns]
    with _style():
        fig = _figure(7.0, 4.8)
        ax = fig.subplots()
        for i, crit in enumerate(crits):
            sub = curves[curves["criterion"] == crit]
            color = CRITERION_COLORS.get(crit, f"C{i}")
            groups = sub.groupby(run_keys) if run_keys else [(0, sub)]
            for _, run in groups:
                run = run.sort_values("step")
                ax.plot(
                    100 * run["frac_pruned"],
                    scale * run["test_error"],
                    color=color,
                    lw=0.6,
                    alpha=0.35,
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
            ax.plot(
                100 * agg["x"],
                scale * agg["mean"],
                color=color,
                lw=2.0,
                label=criterion_label(crit),
            )
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
        for r in rates:
            ax.axvline(100 * float(r), color="0.5", ls=":", lw=0.9)
        ax.set_xlim(left=0)
        ax.set_xlabel("parameters removed (%)")
        ax.set_ylabel(ylabel)
        if not crits:
            _empty(ax, "no pruning curves")
        n_runs = len(curves.groupby(["criterion", *run_keys])) // max(len(crits), 1)
        handles = [
            *[
                Line2D(
                    [], [], color=CRITERION_COLORS.get(c, f"C{i}"), lw=2.0, label=criterion_label(c)
                )
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
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(
            title or "Pruning curves: masked posterior mean, parameters removed in score order"
        )
    return fig


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
    crits = _ordered(pruned_rows["criterion"], list(CRITERION_LABELS))
    rates = sorted({float(r) for r in pruned_rows["rate"]})
    n = max(len(crits), 1)
    estimates = [
        ("point", "network at posterior mean"),
        ("predictive", "posterior predictive mean"),
    ]
    rng = np.random.default_rng(0)
    with _style():
        fig = _figure(max(3.0 * n, 4.5) + 0.6, 6.4)
        axes = fig.subplots(2, n, sharey="row", squeeze=False)
        for row, (est, est_label) in enumerate(estimates):
            err, ylabel = error_values(table, est)
            full_level = err[table["stage"] == "full"].mean()
            unp_level = np.nan
            if unpruned is not None and len(unpruned):
                unp_level = error_values(unpruned, "point")[0].mean()
            for col, crit in enumerate(crits):
                ax = axes[row, col]
                x = np.arange(len(rates))
                for j, stage in enumerate(("pruned", "resampled")):
                    sel = (table["stage"] == stage) & (table["criterion"] == crit)
                    vals = (
                        err[sel]
                        .groupby(table.loc[sel, "rate"].astype(float))
                        .agg(["mean", "min", "max"])
                    )
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
                # references above the bars; a level of 0 (e.g. no test error) stays visible
                if np.isfinite(full_level):
                    ax.axhline(full_level, color=STAGE_COLORS["full"], ls="--", lw=1.4, zorder=4)
                if np.isfinite(unp_level):
                    ax.axhline(unp_level, color=UNPRUNED_COLOR, ls="-.", lw=1.4, zorder=4)
                low, high = ax.get_ylim()
                ax.set_ylim(min(low, -0.04 * (high - min(low, 0.0))), high)
                ax.set_xticks(x, [rate_text(r) for r in rates])
                ax.set_xlim(-0.8, len(rates) - 0.2)
                if row == 0:
                    ax.set_title(criterion_label(crit))
                else:
                    ax.set_xlabel("parameters removed")
            axes[row, 0].set_ylabel(f"{ylabel}\n{est_label}")
        if not crits:
            _empty(axes[0, 0], "no pruned stages")
        handles = [
            Patch(color=STAGE_COLORS["pruned"], label="pruned (full-posterior draws, masked)"),
            Patch(color=STAGE_COLORS["resampled"], label="resampled (MCMC of the pruned network)"),
            Line2D(
                [],
                [],
                color=STAGE_COLORS["full"],
                ls="--",
                label="full posterior (nothing removed)",
            ),
            Line2D(
                [],
                [],
                color=UNPRUNED_COLOR,
                ls="-.",
                label="unpruned network (Adam, deterministic)",
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
        fig.legend(
            handles=handles, loc="outside lower center", ncols=3 if n > 2 else 2, frameon=False
        )
        fig.suptitle(title or "Test error after pruning and after resampling")
    return fig


def predicted_vs_actual_figure(
    full: Mapping[str, np.ndarray],
    stages: Mapping[tuple[str, str, float], Mapping[str, np.ndarray]],
    criteria: Sequence[str],
    rates: Sequence[float],
    scale: float = 1.0,
    center: float = 0.0,
    unit: str = "original target units",
    title: str | None = None,
) -> Figure:
    """Regression: predicted vs actual test targets at 0% (full) and each pruning rate.

    ``full`` and ``stages[(stage, criterion, rate)]`` (``stage`` ``pruned`` or ``resampled``)
    hold the arrays of :func:`bayesprune.evaluation.assess_posterior` (modelled scale);
    ``original = modelled * scale + center`` maps them to the original target scale. First
    column: the full posterior, once (it is the same for every criterion); then one row per
    criterion and one column per rate. Blue: the resampled posterior
    predictive mean with its 95% predictive interval (noise included); orange crosses: the
    pruned network's predictive mean before resampling.
    """

    def orig(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float64) * scale + center

    def band(d: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = d.get("pred_lower95"), d.get("pred_upper95")
        if lo is None or not np.isfinite(lo).any():
            lo, hi = d["mean_lower95"], d["mean_upper95"]
        return orig(lo), orig(hi)

    def rmse(d: Mapping[str, np.ndarray]) -> float:
        return float(np.sqrt(np.mean((orig(d["pred_mean"]) - orig(d["y_true"])) ** 2)))

    def coverage(d: Mapping[str, np.ndarray]) -> float:
        lo, hi = band(d)
        y = orig(d["y_true"])
        return float(np.mean((y >= lo) & (y <= hi)))

    def draw(ax: plt.Axes, d: Mapping[str, np.ndarray], color: str) -> None:
        y, m = orig(d["y_true"]), orig(d["pred_mean"])
        lo, hi = band(d)
        dense = y.size > 100
        ax.errorbar(
            y,
            m,
            yerr=[np.maximum(m - lo, 0), np.maximum(hi - m, 0)],
            fmt="none",
            ecolor=color,
            elinewidth=0.4 if dense else 0.7,
            alpha=0.25 if dense else 0.45,
            antialiased=False,  # many overlapping bars: see trace_rank_figure
        )
        ax.scatter(y, m, s=6 if dense else 9, color=color, alpha=0.8, lw=0, zorder=3)

    crits = list(criteria) or [""]
    cols = [0.0, *[float(r) for r in rates]]
    everything = [full, *stages.values()]
    lo_all = min(float(np.nanmin(orig(d[k]))) for d in everything for k in ("y_true", "pred_mean"))
    hi_all = max(float(np.nanmax(orig(d[k]))) for d in everything for k in ("y_true", "pred_mean"))
    pad = 0.08 * (hi_all - lo_all or 1.0)
    lims = (lo_all - pad, hi_all + pad)
    with _style():
        fig = _figure(2.9 * len(cols) + 0.4, 2.9 * len(crits) + 0.8)
        grid = fig.add_gridspec(len(crits), len(cols))
        # the full posterior is the same in every row: one panel, beside all the criteria
        full_ax = fig.add_subplot(grid[:, 0])
        full_ax.set_box_aspect(1)
        full_ax.plot(lims, lims, color="0.4", lw=0.8, ls="--")
        draw(full_ax, full, STAGE_COLORS["full"])
        full_ax.set_title(
            f"full posterior (0% removed)\nRMSE {rmse(full):.3g}, 95% cov. {100 * coverage(full):.0f}%"
        )
        full_ax.set_xlim(lims)
        full_ax.set_ylim(lims)
        full_ax.set_xlabel(f"actual ({unit})")
        full_ax.set_ylabel(f"predicted ({unit})")
        for i, crit in enumerate(crits):
            for j, rate in enumerate(cols[1:], start=1):
                ax = fig.add_subplot(grid[i, j], sharex=full_ax, sharey=full_ax)
                ax.plot(lims, lims, color="0.4", lw=0.8, ls="--")
                res = stages.get(("resampled", crit, rate))
                pru = stages.get(("pruned", crit, rate))
                text = [f"{criterion_label(crit).split(' ')[0]}, {rate_text(rate)} removed"]
                if res is not None:
                    draw(ax, res, STAGE_COLORS["resampled"])
                if pru is not None:
                    ax.scatter(
                        orig(pru["y_true"]),
                        orig(pru["pred_mean"]),
                        marker="x",
                        s=12,
                        lw=0.8,
                        color=STAGE_COLORS["pruned"],
                        alpha=0.8,
                    )
                if res is not None and pru is not None:
                    text.append(
                        f"RMSE {rmse(pru):.3g} → {rmse(res):.3g}, cov. {100 * coverage(res):.0f}%"
                    )
                ax.set_title("\n".join(text))
                if i == len(crits) - 1:
                    ax.set_xlabel(f"actual ({unit})")
                else:
                    ax.tick_params(labelbottom=False)
                if j == 1:
                    ax.set_ylabel(f"predicted ({unit})")
                else:
                    ax.tick_params(labelleft=False)
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                color=STAGE_COLORS["full"],
                ms=4,
                label="full posterior: mean, 95% interval",
            ),
            Line2D(
                [],
                [],
                marker="o",
                color=STAGE_COLORS["resampled"],
                ms=4,
                label="resampled: mean, 95% interval",
            ),
            Line2D(
                [],
                [],
                marker="x",
                ls="",
                color=STAGE_COLORS["pruned"],
                label="pruned, before resampling: mean",
            ),
            Line2D([], [], color="0.4", ls="--", label="predicted = actual"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(
            title or "Predicted vs actual test targets (RMSE in original units: pruned → resampled)"
        )
    return fig


def _rank_hist(draws: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-chain histogram of the pooled ranks of ``draws`` ``(chains, draws)``."""
    from scipy.stats import rankdata

    ranks = rankdata(draws.reshape(-1)).reshape(draws.shape)
    edges = np.linspace(0.5, draws.size + 0.5, bins + 1)
    return np.stack([np.histogram(r, edges)[0] for r in ranks]), edges


def _rhat_ess(draws: np.ndarray) -> tuple[float, float]:
    from bayesprune.arviz_setup import az

    d = np.asarray(draws, dtype=np.float64)
    if np.ptp(d) == 0 or not np.all(np.isfinite(d)):
        return math.nan, math.nan
    rhat = float(az.rhat(d, method="rank")) if d.shape[0] > 1 else math.nan
    return rhat, float(az.ess(d, method="bulk"))


def trace_rank_figure(
    pruned: Mapping[str, np.ndarray],
    resampled: Mapping[str, np.ndarray],
    bins: int = 20,
    title: str | None = None,
) -> Figure:
    """Trace and rank plots of a few named quantities, pruned vs resampled.

    ``pruned[name]`` / ``resampled[name]``: draws ``(chains, draws)`` (pruned: the full
    posterior's draws of a kept parameter). Rank plots histogram each chain's ranks among all
    chains' draws; well-mixed chains give flat histograms at the dashed uniform level. Panel
    titles name the stage and quantity; a box inside each trace gives ArviZ's rank-normalised
    split R-hat and bulk ESS (red when R-hat > 1.01).
    """
    names = list(dict.fromkeys([*resampled, *pruned]))
    columns = [("pruned", pruned), ("resampled", resampled)]
    palette = sns.color_palette("tab10")
    n_chains = max([v.shape[0] for v in [*pruned.values(), *resampled.values()]] or [1])
    with _style():
        fig = _figure(12.5, 2.0 * max(len(names), 1) + 1.2)
        axes = fig.subplots(max(len(names), 1), 4, squeeze=False, width_ratios=[2.2, 1, 2.2, 1])
        for i, name in enumerate(names):
            for j, (stage, source) in enumerate(columns):
                tax, rax = axes[i, 2 * j], axes[i, 2 * j + 1]
                if name not in source:
                    _empty(tax, f"{name}: not in the {stage} posterior")
                    _empty(rax, "")
                    continue
                d = np.asarray(source[name], dtype=np.float64)
                for c in range(d.shape[0]):
                    # opaque, not anti-aliased: thousands of overlapping segments otherwise
                    # blend into so many shades that the PNG is 3x larger (same picture)
                    tax.plot(
                        np.arange(d.shape[1]),
                        d[c],
                        lw=0.6,
                        color=palette[c % 10],
                        antialiased=False,
                    )
                rhat, ess = _rhat_ess(d)
                tax.set_title(f"{stage}: {name}", loc="left")
                # the statistics inside the panel: beside the title they ran into the next one
                tax.text(
                    0.99,
                    0.96,
                    f"R-hat {rhat:.3f}   bulk ESS {ess:.0f}",
                    transform=tax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=7.5,
                    color="#c44e52" if rhat > 1.01 else "0.2",
                    bbox={"facecolor": "white", "alpha": 0.85, "lw": 0, "pad": 1.5},
                    zorder=5,
                )
                tax.set_ylabel("value")
                counts, edges = _rank_hist(d, bins)
                centers = 0.5 * (edges[1:] + edges[:-1])
                for c in range(counts.shape[0]):
                    rax.step(centers, counts[c], where="mid", color=palette[c % 10], lw=1.0)
                rax.axhline(d.shape[1] / bins, color="0.3", ls="--", lw=0.9)
                rax.set_title("ranks", loc="left")
                rax.set_ylabel("draws per bin")
                rax.set_ylim(bottom=0)
                if i == len(names) - 1:
                    tax.set_xlabel("draw (after burn-in and thinning)")
                    rax.set_xlabel("rank among all chains' draws")
        if not names:
            _empty(axes[0, 0], "no parameters to show")
        handles = [
            Line2D([], [], color=palette[c % 10], label=f"chain {c}") for c in range(n_chains)
        ]
        handles.append(Line2D([], [], color="0.3", ls="--", label="uniform ranks (perfect mixing)"))
        fig.legend(
            handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False
        )
        fig.suptitle(title or "Trace and rank plots: pruned (full-posterior draws) vs resampled")
    return fig


def _log_axis(ax: plt.Axes, linear_below: float | None = None) -> None:
    """Log scale with plain tick labels; stays linear when every value is below ``linear_below``."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lo, hi = ax.dataLim.y0, ax.dataLim.y1
    if linear_below is not None and hi <= linear_below:
        return
    if lo <= 0 or not np.isfinite(lo):
        return
    from matplotlib.ticker import LogLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    if hi / lo < 10:
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 3, 5)))
    elif hi / lo < 1000:  # at least a few labelled ticks, not a lone "100"
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))


def _positions(rates: Sequence[float]) -> dict[tuple[str, float], float]:
    pos = {("full", 0.0): 0.0}
    for i, r in enumerate(rates):
        pos[("pruned", float(r))] = i + 1 - 0.2
        pos[("resampled", float(r))] = i + 1 + 0.2
    return pos


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
    crits = _ordered(
        stage_rows.loc[stage_rows["stage"] != "full", "criterion"], list(CRITERION_LABELS)
    )
    rates = sorted({float(r) for r in stage_rows.loc[stage_rows["stage"] != "full", "rate"]})
    pos = _positions(rates)
    n = max(len(crits), 1)
    qmarkers = {
        "loglik": ("o", "log likelihood"),
        "lp": ("s", "log posterior"),
        "pred": ("^", "predictions (worst test point)"),
    }
    rows = [
        ("rhat", "parameter R-hat", True),
        ("ess_bulk", "parameter bulk ESS (draws)", True),
        ("rhat", "function-space R-hat", False),
        ("ess_bulk", "function-space bulk ESS (draws)", False),
    ]
    rng = np.random.default_rng(0)
    with _style():
        fig = _figure(max(3.3 * n, 5.0) + 0.6, 10.0)
        axes = fig.subplots(len(rows), n, sharey="row", sharex=True, squeeze=False)
        for r, (key, label, is_param) in enumerate(rows):
            src = params if is_param else functions
            for c, crit in enumerate(crits or [None]):
                ax = axes[r, c]
                sel = (src["stage"] == "full") | (src["criterion"] == crit)
                sub = src[sel]
                any_data = False
                for (stage, rate), grp in sub.groupby(
                    ["stage", sub["rate"].astype(float)], sort=False
                ):
                    x = pos.get((stage, 0.0 if stage == "full" else float(rate)))
                    if x is None:
                        continue
                    color = STAGE_COLORS.get(stage, "0.5")
                    if is_param:
                        vals = grp[key].astype(float).to_numpy()
                        vals = vals[np.isfinite(vals)]
                        if vals.size == 0:
                            continue
                        any_data = True
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
                    else:
                        for q, (marker, _) in qmarkers.items():
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
                if key == "rhat":
                    ax.axhline(rhat_threshold, color="#c44e52", ls="--", lw=1.0)
                    # linear with several ticks: values up to 2 and more stay readable
                    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, min_n_ticks=4))
                    vals = sub[key].astype(float).to_numpy()
                    vals = vals[np.isfinite(vals)]
                    if vals.size:
                        above = int((vals > rhat_threshold).sum())
                        ax.text(
                            0.02,
                            0.97,
                            f"{above} of {vals.size} above {rhat_threshold:g}",
                            transform=ax.transAxes,
                            ha="left",
                            va="top",
                            fontsize=7.5,
                            color="#c44e52" if above else "0.3",
                            bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5},
                        )
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
        handles = [Patch(color=STAGE_COLORS[s], label=s) for s in STAGES]
        handles += [
            Line2D([], [], marker=m, ls="", color="0.5", mec="black", label=lab)
            for m, lab in qmarkers.values()
        ]
        handles.append(Line2D([], [], color="#c44e52", ls="--", label=f"R-hat {rhat_threshold}"))
        fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
        fig.suptitle(
            title
            or "Convergence diagnostics per stage (ArviZ rank-normalised split R-hat, bulk ESS)"
        )
    return fig


def parameter_density_figure(params: pd.DataFrame, title: str | None = None) -> Figure:
    """Density of the parameters' posterior means per stage; rows rates, columns criteria.

    ``params``: one row per parameter, stage and replicate (``stage``, ``criterion``, ``rate``,
    ``rep``, ``mean``, ``pruned``); pruned parameters (exactly 0) are left out of the pruned and
    resampled densities and counted in the panel instead. Replicates are pooled.
    """
    non_full = params[params["stage"] != "full"]
    crits = _ordered(non_full["criterion"], list(CRITERION_LABELS))
    rates = sorted({float(r) for r in non_full["rate"]})
    full_vals = params.loc[params["stage"] == "full", "mean"].astype(float).to_numpy()

    def kde(ax: plt.Axes, vals: np.ndarray, color: str, ls: str) -> None:
        vals = vals[np.isfinite(vals)]
        if vals.size >= 2 and np.ptp(vals) > 0:
            sns.kdeplot(
                x=vals, ax=ax, color=color, ls=ls, lw=1.6, bw_adjust=0.7, cut=0, warn_singular=False
            )
        elif vals.size:
            ax.axvline(float(vals[0]), color=color, ls=ls)

    nr, nc = max(len(rates), 1), max(len(crits), 1)
    with _style():
        fig = _figure(3.2 * nc + 0.5, 2.4 * nr + 1.0)
        axes = fig.subplots(nr, nc, sharex=True, squeeze=False)
        for i, rate in enumerate(rates or [None]):
            for j, crit in enumerate(crits or [None]):
                ax = axes[i, j]
                kde(ax, full_vals, STAGE_COLORS["full"], "-")
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
                    kde(ax, sub.loc[kept, "mean"].astype(float).to_numpy(), STAGE_COLORS[stage], ls)
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


def random_forest_probs(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, n_classes: int, seed: int
) -> np.ndarray:
    """Test-set class probabilities ``(N, n_classes)`` of a seeded random forest (50 trees, depth 10)."""
    from sklearn.ensemble import RandomForestClassifier

    x_tr = np.asarray(X_train).reshape(len(X_train), -1)
    x_te = np.asarray(X_test).reshape(len(X_test), -1)
    rf = RandomForestClassifier(n_estimators=50, max_depth=10, random_state=seed, n_jobs=1)
    rf.fit(x_tr, np.asarray(y_train, dtype=np.int64))
    probs = np.zeros((x_te.shape[0], n_classes))
    probs[:, rf.classes_.astype(np.int64)] = rf.predict_proba(x_te)
    return probs


def _model_color(name: str, i: int) -> str:
    lname = name.lower()
    for key in ("resampled", "pruned", "full"):
        if lname.startswith(key):
            return STAGE_COLORS[key]
    if "forest" in lname:
        return RF_COLOR
    return sns.color_palette("tab10")[i % 10]


def roc_figure(
    y_true: np.ndarray,
    probs: Mapping[str, np.ndarray],
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """One-vs-rest ROC curves per class for each model (``probs[name]``: ``(N, C)``).

    For two classes only the second class's curve is drawn (the other is its mirror image).
    Legends give each model's area under the curve.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(y_true, dtype=np.int64)
    n_classes = next(iter(probs.values())).shape[1] if probs else 2
    names = list(class_names) if class_names else [str(c) for c in range(n_classes)]
    classes = [1] if n_classes == 2 else list(range(n_classes))
    ncols = min(len(classes), 3)
    nrows = math.ceil(len(classes) / ncols)
    with _style():
        fig = _figure(3.6 * ncols + 0.3, 3.6 * nrows + 0.5)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, cls in enumerate(classes):
            ax = axes[k // ncols, k % ncols]
            target = (y == cls).astype(int)
            ax.plot([0, 1], [0, 1], color="0.6", ls=":", lw=0.9)
            for i, (name, p) in enumerate(probs.items()):
                if 0 < target.sum() < target.size:
                    fpr, tpr, _ = roc_curve(target, p[:, cls])
                    auc = roc_auc_score(target, p[:, cls])
                    ax.plot(
                        fpr,
                        tpr,
                        color=_model_color(name, i),
                        lw=1.5,
                        alpha=0.9,
                        label=f"{name} ({auc:.3f})",
                        ls="--" if name.lower().startswith("pruned") else "-",
                    )
            if not 0 < target.sum() < target.size:
                ax.text(
                    0.5,
                    0.5,
                    "class absent or alone in the test set",
                    ha="center",
                    transform=ax.transAxes,
                    color="0.4",
                )
            ax.set_title(f"class {names[cls] if cls < len(names) else cls} vs rest")
            ax.set_xlabel("false positive rate")
            ax.set_ylabel("true positive rate")
            ax.set_xlim(-0.01, 1.01)
            ax.set_ylim(-0.01, 1.01)
            ax.set_aspect("equal")
            if ax.get_legend_handles_labels()[0]:
                # below the diagonal: empty for any better-than-chance classifier
                ax.legend(
                    loc="lower right",
                    fontsize=6.5,
                    framealpha=0.85,
                    title="model (AUC)",
                    title_fontsize=7,
                )
        for k in range(len(classes), nrows * ncols):
            axes[k // ncols, k % ncols].set_visible(False)
        fig.suptitle(title or "One-vs-rest ROC curves on the test set")
    return fig


def reliability_figure(
    y_true: np.ndarray, probs: Mapping[str, np.ndarray], n_bins: int = 10, title: str | None = None
) -> Figure:
    """Reliability diagram: accuracy vs confidence (max class probability) in equal-width bins.

    Top: per model the accuracy in each non-empty bin against the bin's mean confidence (the
    diagonal is perfect calibration); the legend gives the expected calibration error (ECE,
    15 bins as in ``metrics.json``). Bottom: how many test points fall in each bin.
    """
    from .evaluation import ece

    y = np.asarray(y_true, dtype=np.int64)
    edges = np.linspace(0, 1, n_bins + 1)
    with _style():
        fig = _figure(6.0, 6.8)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.2])
        top.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1.0, label="perfect calibration")
        for i, (name, p) in enumerate(probs.items()):
            conf = p.max(axis=1)
            correct = p.argmax(axis=1) == y
            idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
            xs, accs = [], []
            for b in range(n_bins):
                sel = idx == b
                if sel.any():
                    xs.append(conf[sel].mean())
                    accs.append(correct[sel].mean())
            color = _model_color(name, i)
            ls = "--" if name.lower().startswith("pruned") else "-"
            top.plot(
                xs,
                accs,
                marker="o",
                ms=4,
                color=color,
                ls=ls,
                lw=1.3,
                label=f"{name} (ECE {ece(p, y):.3f})",
            )
            bottom.hist(conf, bins=edges, histtype="step", color=color, ls=ls, lw=1.3)
        top.set_ylabel("accuracy in bin")
        top.set_xlim(0, 1)
        top.set_ylim(0, 1.02)
        fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
        bottom.set_xlabel("confidence (predicted probability of the predicted class)")
        bottom.set_ylabel("test points")
        fig.suptitle(title or "Reliability diagram on the test set")
    return fig


# ----------------------------------------------------------------------------- loaders
def run_arrays(arrays: dict[str, np.ndarray], run: int = 0) -> dict[str, np.ndarray]:
    """One run's predictive arrays from a stage's ``predictive.npz`` (arrays with a leading
    run axis, ``y_true`` shared, ``runs`` the labels)."""
    n_runs = len(arrays["runs"]) if "runs" in arrays else None
    out = {}
    for name, value in arrays.items():
        if name == "runs":
            continue
        out[name] = value[run] if n_runs is not None and name != "y_true" else value
    return out


def load_curves(files: Sequence[str | os.PathLike[str]], reps: Sequence[int]) -> pd.DataFrame:
    """Concatenate per-replicate ``curve.csv`` files, adding a ``rep`` column."""
    frames = [pd.read_csv(f).assign(rep=r) for f, r in zip(files, reps, strict=True)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_stage_params(
    files: Sequence[str | os.PathLike[str]], keys: Sequence[Sequence]
) -> pd.DataFrame:
    """Concatenate per-stage ``params.csv`` files; ``keys`` are ``[stage, criterion, rate, rep]``.

    Every run's rows are kept (one row per parameter and run), except that a full stage's
    file contributes only its run ``all``: every chain aligned to one reference.
    """
    frames = []
    for path, (stage, crit, rate, rep) in zip(files, keys, strict=True):
        frame = pd.read_csv(path)
        if "run" in frame.columns and (frame["run"] == "all").any():
            # the full posterior: all chains aligned to one reference (R-hat across chains)
            frame = frame[frame["run"] == "all"]
        frame = frame[frame["index"] >= 0]  # tau2 has index -1
        frames.append(frame.assign(stage=stage, criterion=crit, rate=float(rate), rep=rep))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_function_diagnostics(
    files: Sequence[str | os.PathLike[str]], keys: Sequence[Sequence]
) -> pd.DataFrame:
    """One row per function-space quantity (``loglik``, ``lp``, ``pred``) and stage from
    ``diagnostics.json`` files; ``pred`` takes the worst test point (largest R-hat, smallest
    bulk ESS)."""
    from .io import read_json

    rows = []
    for path, (stage, crit, rate, rep) in zip(files, keys, strict=True):
        content = read_json(path)
        # the full stage: its pooled, label-free diagnostics over all chains; else every run
        runs = [content["replicate"]] if "replicate" in content else content.get("runs", [content])
        for function in [run.get("function", {}) for run in runs]:
            rows += _function_rows(
                function, {"stage": stage, "criterion": crit, "rate": float(rate), "rep": rep}
            )
    frame = pd.DataFrame(
        rows, columns=["stage", "criterion", "rate", "rep", "quantity", "rhat", "ess_bulk"]
    )
    frame[["rhat", "ess_bulk"]] = frame[["rhat", "ess_bulk"]].astype(float)
    return frame


def _function_rows(function: dict, key: dict) -> list[dict]:
    """Rows of one run's function-space diagnostics (see :func:`load_function_diagnostics`)."""
    rows = []
    for q in ("loglik", "lp"):
        if q in function:
            rows.append(
                {
                    **key,
                    "quantity": q,
                    "rhat": function[q].get("rhat"),
                    "ess_bulk": function[q].get("ess_bulk"),
                }
            )
    if "pred" in function:
        pred = function["pred"]
        rows.append(
            {
                **key,
                "quantity": "pred",
                "rhat": pred.get("rhat_max"),
                "ess_bulk": pred.get("ess_bulk_min"),
            }
        )
    return rows


def pick_parameters(table: pd.DataFrame, pruned: Sequence[int], n: int = 4) -> list[str]:
    """A few named parameters kept by the mask: per layer the weight with the largest
    signal-to-noise ratio ``|mean| / sd``, then the largest-ratio kept biases, up to ``n``.

    ``table``: a ``params.csv`` (``param``, ``index``, ``mean``, ``sd``).
    """
    t = table[table["index"] >= 0].copy()
    t = t[~t["index"].isin(set(int(i) for i in pruned))]
    t["snr"] = t["mean"].abs() / t["sd"].where(t["sd"] > 0)
    t["layer"] = t["param"].str.extract(r"^layer(\d+)\.")[0]
    t["bias"] = t["param"].str.contains(".bias", regex=False)
    t = t.sort_values("snr", ascending=False, na_position="last")
    picked = list(t[~t["bias"]].groupby("layer", sort=True).head(1)["param"])[: max(n - 1, 1)]
    picked += list(t.loc[t["bias"], "param"])[:1]
    picked += [p for p in t["param"] if p not in picked]
    return picked[:n]


# ----------------------------------------------------------------------------- report tables
def headline_method_a(table: pd.DataFrame, unpruned: pd.DataFrame | None = None) -> pd.DataFrame:
    """Method A headline: per dataset, criterion and rate, mean ± std across runs (every run
    of every replicate: one chain each under ``pruning.unit: chain``).

    ``table``: ``pruning.csv``; ``unpruned``: ``unpruned.csv``. Test error is the paper's
    (network at the masked posterior mean): RMSE on the modelled scale for regression,
    accuracy in % for classification; ``resampled (predictive)`` is the posterior predictive
    mean after resampling; ``kept params`` counts the pruned network's weights and biases.
    """
    from .tables import mean_pm

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
            by_stage = grp.set_index("stage")
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
            for stage in ("pruned", "resampled"):
                row[stage] = (
                    factor * by_stage.loc[stage, f"point_{col}"]
                    if stage in by_stage.index
                    else np.nan
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
            rows.append(row)
    wide = pd.DataFrame(rows)
    if wide.empty:
        return wide
    cols = ["unpruned", "full", "pruned", "resampled", "resampled (predictive)", "kept params"]
    out = mean_pm(wide, ["dataset", "metric", "criterion", "rate"], cols, digits=4)
    out["of"] = pd.array(  # a count: printed "266", not "266.0"
        wide.groupby(["dataset", "metric", "criterion", "rate"], sort=False)["of"]
        .first()
        .round()
        .to_numpy(),
        dtype="Int64",
    )
    out["rate"] = out["rate"].map(rate_text)
    return out.rename(columns={"rate": "removed", "of": "total params"})


def table_html(frame: pd.DataFrame, title: str, note: str = "") -> str:
    """A small standalone HTML page holding ``frame`` (for the Snakemake report)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row)
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    style = (
        "body{font-family:sans-serif;font-size:13px;margin:1em}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h3>{html.escape(title)}</h3>"
        f"<p>{html.escape(note)}</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )
