"""Method A (classification): ROC curves and reliability diagrams of the posterior predictive
beside other models (e.g. :func:`bayesprune.baselines.random_forest_probs`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from bayesprune.figures.style import RF_COLOR, STAGE_COLORS, new_figure, style


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
    y = np.asarray(y_true, dtype=np.int64)
    n_classes = next(iter(probs.values())).shape[1] if probs else 2
    names = list(class_names) if class_names else [str(c) for c in range(n_classes)]
    classes = [1] if n_classes == 2 else list(range(n_classes))
    ncols = min(len(classes), 3)
    nrows = math.ceil(len(classes) / ncols)
    with style():
        fig = new_figure(3.6 * ncols + 0.3, 3.6 * nrows + 0.5)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, cls in enumerate(classes):
            label = names[cls] if cls < len(names) else cls
            _roc_panel(axes[k // ncols, k % ncols], y, probs, cls, label)
        for k in range(len(classes), nrows * ncols):
            axes[k // ncols, k % ncols].set_visible(False)
        fig.suptitle(title or "One-vs-rest ROC curves on the test set")
    return fig


def _roc_panel(
    ax: plt.Axes, y: np.ndarray, probs: Mapping[str, np.ndarray], cls: int, label: object
) -> None:
    """Class ``cls`` against the rest: every model's ROC curve, its AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

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
    ax.set_title(f"class {label} vs rest")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    if ax.get_legend_handles_labels()[0]:
        # below the diagonal: empty for any better-than-chance classifier
        ax.legend(
            loc="lower right", fontsize=6.5, framealpha=0.85, title="model (AUC)", title_fontsize=7
        )


def reliability_figure(
    y_true: np.ndarray, probs: Mapping[str, np.ndarray], n_bins: int = 10, title: str | None = None
) -> Figure:
    """Reliability diagram: accuracy vs confidence (max class probability) in equal-width bins.

    Top: per model the accuracy in each non-empty bin against the bin's mean confidence (the
    diagonal is perfect calibration); the legend gives the expected calibration error (ECE,
    15 bins as in ``metrics.json``). Bottom: how many test points fall in each bin.
    """
    from bayesprune.evaluation import ece

    y = np.asarray(y_true, dtype=np.int64)
    edges = np.linspace(0, 1, n_bins + 1)
    with style():
        fig = new_figure(6.0, 6.8)
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
