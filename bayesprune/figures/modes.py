"""Method A: how multimodal each replicate's full posterior is (a figure job, see
:mod:`.jobs`): parameter R-hat before and after symmetry alignment, and how many chains sit
in distinguishable modes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from bayesprune.figures.style import STAGE_COLORS, UNPRUNED_COLOR, new_figure, style
from bayesprune.io import read_json
from bayesprune.layout import keys_of


def modes_job(inputs: Mapping[str, Any], wildcards: Mapping[str, str]) -> Figure:
    """Left: median parameter R-hat of every replicate's full posterior, raw (the chains'
    draws as sampled) and after alignment onto one symmetric copy; right: the number of groups
    of chains whose predictions differ beyond Monte Carlo error, with the log likelihood's
    R-hat. Input ``diagnostics``: the full stage's ``diagnostics.json`` of every replicate."""
    reps, raw, aligned, modes, chains, loglik = [], [], [], [], [], []
    for path in sorted(inputs["diagnostics"], key=lambda p: keys_of(p)["rep"]):
        diag = read_json(path)["replicate"]
        reps.append(keys_of(path)["rep"])
        raw.append(diag["parameter_raw"]["rhat_median"])
        aligned.append(diag["parameter"]["rhat_median"])
        modes.append(diag["modes"]["n_modes"])
        chains.append(diag["n_chains"])
        loglik.append(diag["function"]["loglik"]["rhat"])
    x = np.arange(len(reps))
    with style():
        fig = new_figure(9.0, 3.6)
        left, right = fig.subplots(1, 2)
        left.vlines(x, aligned, raw, color=UNPRUNED_COLOR, lw=1)
        left.scatter(x, raw, marker="o", facecolor="white", edgecolor="#333333", label="raw")
        left.scatter(x, aligned, color=STAGE_COLORS["resampled"], label="aligned")
        for level, dash in ((1.01, ":"), (1.1, "--")):
            left.axhline(level, color="#999999", ls=dash, lw=1, label=f"R-hat {level:g}")
        left.set_yscale("log")
        top = max(max(raw), max(aligned), 1.2)
        steps = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5) if top < 1.45 else (1.0, 1.1, 1.5, 2, 3, 5, 10, 20)
        ticks = [t for t in steps if t <= top * 1.15]
        left.set_yticks(ticks, [f"{t:g}" for t in ticks])
        left.yaxis.set_minor_locator(NullLocator())
        left.set_ylim(0.97, top * 1.15)
        left.set_ylabel("median parameter R-hat (log scale)")
        left.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
        right.bar(x, modes, color=STAGE_COLORS["full"], width=0.6)
        for xi, m, rhat in zip(x, modes, loglik, strict=True):
            text = "" if rhat is None else f"log lik.\nR-hat {rhat:.2f}"
            right.text(xi, m + 0.1, text, ha="center", va="bottom", fontsize="x-small")
        right.set_ylim(0, max(chains) + 1)
        right.set_yticks(range(0, max(chains) + 1))
        right.set_ylabel(f"groups of chains (of {max(chains)}) in distinct modes")
        for ax in (left, right):
            ax.set_xticks(x, [f"rep {r}" for r in reps])
            ax.set_xlabel("replicate")
            ax.set_xlim(-0.6, len(reps) - 0.4)
            ax.grid(False, axis="x")
        fig.suptitle(f"{wildcards['dataset']}: modes of the full posterior per replicate")
    return fig
