"""Method A: trace and rank plots of a few kept parameters, pruned vs resampled."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bayesprune.figures.style import empty_panel, new_figure, style


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
    with style():
        fig = new_figure(12.5, 2.0 * max(len(names), 1) + 1.2)
        axes = fig.subplots(max(len(names), 1), 4, squeeze=False, width_ratios=[2.2, 1, 2.2, 1])
        for i, name in enumerate(names):
            for j, (stage, source) in enumerate(columns):
                tax, rax = axes[i, 2 * j], axes[i, 2 * j + 1]
                if name not in source:
                    empty_panel(tax, f"{name}: not in the {stage} posterior")
                    empty_panel(rax, "")
                    continue
                d = np.asarray(source[name], dtype=np.float64)
                _trace(tax, d, f"{stage}: {name}", palette)
                _ranks(rax, d, bins, palette)
                if i == len(names) - 1:
                    tax.set_xlabel("draw (after burn-in and thinning)")
                    rax.set_xlabel("rank among all chains' draws")
        if not names:
            empty_panel(axes[0, 0], "no parameters to show")
        handles = [
            Line2D([], [], color=palette[c % 10], label=f"chain {c}") for c in range(n_chains)
        ]
        handles.append(Line2D([], [], color="0.3", ls="--", label="uniform ranks (perfect mixing)"))
        fig.legend(
            handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False
        )
        fig.suptitle(title or "Trace and rank plots: pruned (full-posterior draws) vs resampled")
    return fig


def _trace(tax: plt.Axes, d: np.ndarray, label: str, palette: Sequence) -> None:
    """Every chain's draws, with R-hat and bulk ESS in a box inside the panel."""
    for c in range(d.shape[0]):
        # opaque, not anti-aliased: thousands of overlapping segments otherwise
        # blend into so many shades that the PNG is 3x larger (same picture)
        tax.plot(np.arange(d.shape[1]), d[c], lw=0.6, color=palette[c % 10], antialiased=False)
    rhat, ess = _rhat_ess(d)
    tax.set_title(label, loc="left")
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


def _ranks(rax: plt.Axes, d: np.ndarray, bins: int, palette: Sequence) -> None:
    """Per-chain histograms of the pooled ranks, against the uniform level."""
    counts, edges = _rank_hist(d, bins)
    centers = 0.5 * (edges[1:] + edges[:-1])
    for c in range(counts.shape[0]):
        rax.step(centers, counts[c], where="mid", color=palette[c % 10], lw=1.0)
    rax.axhline(d.shape[1] / bins, color="0.3", ls="--", lw=0.9)
    rax.set_title("ranks", loc="left")
    rax.set_ylabel("draws per bin")
    rax.set_ylim(bottom=0)


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
