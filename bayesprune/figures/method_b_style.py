"""Method B's figure style: one colour, marker and line style per training method; the
dense (unpruned) network as a dark grey reference line."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from bayesprune.labels import method_label

DENSE_COLOR = "#333333"
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


def integer_x(ax: plt.Axes) -> None:
    """Integer ticks on the x axis (epochs)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def method_handles(methods: Sequence[str]) -> list[Line2D]:
    """Legend entries of ``methods`` in their colour, marker and line style."""
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


def dense_line(ax: plt.Axes, acc: pd.Series, label: str = "dense (unpruned)") -> Line2D | None:
    """A horizontal reference at the dense network's mean accuracy (%), shaded min-max."""
    acc = 100 * acc.astype(float).dropna()
    if acc.empty:
        return None
    ax.axhspan(acc.min(), acc.max(), color=DENSE_COLOR, alpha=0.12, lw=0)
    ax.axhline(acc.mean(), color=DENSE_COLOR, lw=1.2, ls="-")
    return Line2D([], [], color=DENSE_COLOR, lw=1.2, label=f"{label}: {acc.mean():.2f}%")
