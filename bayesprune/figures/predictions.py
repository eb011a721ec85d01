"""Method A (regression): predicted vs actual test targets, before and after resampling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayesprune.figures.style import STAGE_COLORS, new_figure, style
from bayesprune.labels import criterion_label, rate_text

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class _Original:
    """``original = modelled * scale + center``: the arrays' values on the original scale."""

    scale: float
    center: float

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float64) * self.scale + self.center

    def band(self, d: Arrays) -> tuple[np.ndarray, np.ndarray]:
        """The 95% predictive interval (noise included), else the mean's interval."""
        lo, hi = d.get("pred_lower95"), d.get("pred_upper95")
        if lo is None or not np.isfinite(lo).any():
            lo, hi = d["mean_lower95"], d["mean_upper95"]
        return self(lo), self(hi)

    def rmse(self, d: Arrays) -> float:
        return float(np.sqrt(np.mean((self(d["pred_mean"]) - self(d["y_true"])) ** 2)))

    def coverage(self, d: Arrays) -> float:
        lo, hi = self.band(d)
        y = self(d["y_true"])
        return float(np.mean((y >= lo) & (y <= hi)))


def predicted_vs_actual_figure(
    full: Arrays,
    stages: Mapping[tuple[str, str, float], Arrays],
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
    orig = _Original(scale, center)
    crits = list(criteria) or [""]
    cols = [0.0, *[float(r) for r in rates]]
    everything = [full, *stages.values()]
    lo_all = min(float(np.nanmin(orig(d[k]))) for d in everything for k in ("y_true", "pred_mean"))
    hi_all = max(float(np.nanmax(orig(d[k]))) for d in everything for k in ("y_true", "pred_mean"))
    pad = 0.08 * (hi_all - lo_all or 1.0)
    lims = (lo_all - pad, hi_all + pad)
    with style():
        fig = new_figure(2.9 * len(cols) + 0.4, 2.9 * len(crits) + 0.8)
        grid = fig.add_gridspec(len(crits), len(cols))
        # the full posterior is the same in every row: one panel, beside all the criteria
        full_ax = fig.add_subplot(grid[:, 0])
        _full_panel(full_ax, orig, full, lims, unit)
        for i, crit in enumerate(crits):
            for j, rate in enumerate(cols[1:], start=1):
                ax = fig.add_subplot(grid[i, j], sharex=full_ax, sharey=full_ax)
                _stage_panel(ax, orig, stages, crit, rate, lims)
                if i == len(crits) - 1:
                    ax.set_xlabel(f"actual ({unit})")
                else:
                    ax.tick_params(labelbottom=False)
                if j == 1:
                    ax.set_ylabel(f"predicted ({unit})")
                else:
                    ax.tick_params(labelleft=False)
        fig.legend(handles=_legend(), loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(
            title or "Predicted vs actual test targets (RMSE in original units: pruned → resampled)"
        )
    return fig


def _draw(ax: plt.Axes, orig: _Original, d: Arrays, color: str) -> None:
    """Predictive means against the actual targets, with their 95% intervals."""
    y, m = orig(d["y_true"]), orig(d["pred_mean"])
    lo, hi = orig.band(d)
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


def _full_panel(
    ax: plt.Axes, orig: _Original, full: Arrays, lims: tuple[float, float], unit: str
) -> None:
    """The full posterior (0% removed), square, with its RMSE and 95% coverage."""
    ax.set_box_aspect(1)
    ax.plot(lims, lims, color="0.4", lw=0.8, ls="--")
    _draw(ax, orig, full, STAGE_COLORS["full"])
    ax.set_title(
        f"full posterior (0% removed)\nRMSE {orig.rmse(full):.3g}, "
        f"95% cov. {100 * orig.coverage(full):.0f}%"
    )
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_xlabel(f"actual ({unit})")
    ax.set_ylabel(f"predicted ({unit})")


def _stage_panel(
    ax: plt.Axes,
    orig: _Original,
    stages: Mapping[tuple[str, str, float], Arrays],
    crit: str,
    rate: float,
    lims: tuple[float, float],
) -> None:
    """One criterion and rate: resampled (means, intervals) and pruned (crosses)."""
    ax.plot(lims, lims, color="0.4", lw=0.8, ls="--")
    res = stages.get(("resampled", crit, rate))
    pru = stages.get(("pruned", crit, rate))
    text = [f"{criterion_label(crit).split(' ')[0]}, {rate_text(rate)} removed"]
    if res is not None:
        _draw(ax, orig, res, STAGE_COLORS["resampled"])
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
            f"RMSE {orig.rmse(pru):.3g} → {orig.rmse(res):.3g}, "
            f"cov. {100 * orig.coverage(res):.0f}%"
        )
    ax.set_title("\n".join(text))


def _legend() -> list[Line2D]:
    return [
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
