"""The ablation's tables and figure: summaries over replicates and runs, the per-switch tables,
each switch's effect on the error (absolute and relative) and the Markdown report of
:mod:`bayesprune.ablation`'s cells."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayesprune.ablation_switches import DESCRIPTIONS, ESTIMATES, STAGES, SWITCHES
from bayesprune.config import rate_label

HEADLINE = [("full", "", 0.0)] + [
    (stage, criterion, rate)
    for criterion in ("stn", "spn", "rnd")
    for rate in (0.5, 0.75)
    for stage in ("pruned", "resampled")
]


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over every run of every replicate, per start, switch, dataset, stage,
    criterion, rate and estimate."""
    keys = ["start", "switch", "dataset", "metric", "stage", "criterion", "rate", "estimate"]
    ok = frame.dropna(subset=["value"])
    out = ok.groupby(keys, dropna=False)["value"].agg(["mean", "std", "count"]).reset_index()
    return out


def _column(stage: str, criterion: str, rate: float) -> str:
    if stage == "full":
        return "full"
    return f"{criterion.upper()} {rate_label(rate * 100)}% {'pr' if stage == 'pruned' else 'rs'}"


def switch_table(summary: pd.DataFrame, start: str, switch: str, against: str) -> str:
    """Markdown: one row per dataset and config (the start, then the switched cell), one
    column per headline number as ``point / predictive`` (mean over runs)."""
    cols = [_column(*h) for h in HEADLINE]
    head = "| dataset | config | " + " | ".join(cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    names = sorted(set(summary.loc[summary["start"] == start, "dataset"]))
    for name in names:
        for sw, label in (("base", start), (switch, f"{switch} from {against}")):
            part = summary[
                (summary["start"] == start)
                & (summary["switch"] == sw)
                & (summary["dataset"] == name)
            ]
            if part.empty:
                continue
            cells = []
            for stage, criterion, rate in HEADLINE:
                sel = part[
                    (part["stage"] == stage)
                    & (part["criterion"].fillna("") == criterion)
                    & (np.isclose(part["rate"], rate))
                ]
                vals = {e: sel.loc[sel["estimate"] == e, "mean"] for e in ESTIMATES}
                cells.append(
                    " / ".join(f"{v.iloc[0]:.3f}" if len(v) else "-" for v in vals.values())
                )
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def effects(summary: pd.DataFrame) -> pd.DataFrame:
    """Each applicable switch's change of every headline number from its start's (switched
    minus start), per dataset and estimate; ``error_change`` in error units (RMSE, or
    1 - accuracy), positive = worse."""
    keys = ["start", "dataset", "metric", "stage", "criterion", "rate", "estimate"]
    base = summary[summary["switch"] == "base"].set_index(keys)["mean"]
    rows = []
    for _, r in summary[summary["switch"] != "base"].iterrows():
        k = tuple(r[key] for key in keys)
        if k not in base.index:
            continue
        delta = float(r["mean"] - base.loc[k])
        rows.append(
            dict(zip(keys, k, strict=True))
            | {
                "switch": r["switch"],
                "start_value": float(base.loc[k]),
                "value": float(r["mean"]),
                "change": delta,
                "error_change": delta if r["metric"] == "rmse" else -delta,
            }
        )
    cols = [*keys, "switch", "start_value", "value", "change", "error_change"]
    return pd.DataFrame(rows, columns=cols)


def relative_effects(effects: pd.DataFrame, estimate: str = "point") -> pd.DataFrame:
    """Mean relative change of the test error (RMSE, or 1 - accuracy) per start, switch,
    dataset and stage (full; pruned and resampled averaged over criteria and rates):
    ``(switched - start) / start``, positive = worse."""
    e = effects[effects["estimate"] == estimate].copy()
    err0 = np.where(e["metric"] == "rmse", e["start_value"], 1.0 - e["start_value"])
    e["relative"] = e["error_change"] / np.maximum(err0, 1e-12)
    keys = ["start", "switch", "dataset", "stage"]
    return e.groupby(keys)["relative"].mean().reset_index()


def plot_effects(effects: pd.DataFrame, labels: list[str], path: str) -> None:
    """Heatmaps (one per start config): rows switches, columns dataset x stage, colour the
    relative change of the point estimate's test error (:func:`relative_effects`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesprune.io import atomic_path

    rel = relative_effects(effects)
    names = sorted(set(rel["dataset"]))
    cols = [(d, s) for d in names for s in STAGES]
    fig, axes = plt.subplots(
        len(labels), 1, figsize=(1.0 + 0.62 * len(cols), 1.2 + 0.42 * 2 * len(SWITCHES))
    )
    for ax, label in zip(np.atleast_1d(axes), labels, strict=True):
        part = rel[rel["start"] == label]
        switches = [s for s in SWITCHES if s in set(part["switch"])]
        grid = np.full((len(switches), len(cols)), np.nan)
        for i, sw in enumerate(switches):
            for j, (d, st) in enumerate(cols):
                v = part[(part["switch"] == sw) & (part["dataset"] == d) & (part["stage"] == st)]
                if len(v):
                    grid[i, j] = float(v["relative"].iloc[0])
        im = ax.imshow(np.clip(grid, -1, 1), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    # white on the dark ends of the colour scale, black elsewhere
                    ink = "white" if abs(grid[i, j]) > 0.6 else "black"
                    text = f"{100 * grid[i, j]:+.0f}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7, color=ink)
        ax.set_yticks(range(len(switches)), switches, fontsize=8)
        ax.set_xticks(range(len(cols)), [f"{d}\n{s}" for d, s in cols], fontsize=7)
        other = [lab for lab in labels if lab != label]
        ax.set_title(
            f"from {label}, one switch to {other[0] if other else 'the other'}: "
            "test error change (%, point; red worse)",
            fontsize=9,
        )
        bar = fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01)
        bar.set_ticks([-1, -0.5, 0, 0.5, 1], labels=["-100%", "-50%", "0", "+50%", ">= +100%"])
        bar.ax.tick_params(labelsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def markdown_report(
    summary: pd.DataFrame,
    grid: list[dict[str, Any]],
    labels: list[str],
    lengths: dict[str, Any],
) -> str:
    """The ablation's tables as Markdown: the grid (what each switch changed, what did not
    apply), then one table per start and switch."""
    lines = [
        "# Ablation: one departure at a time",
        "",
        f"Full chains {lengths['samples']} iterations (burn-in as configured, about "
        f"{lengths['kept_draws']} kept draws per chain), resampling {lengths['resample_fraction']} "
        f"of each config's resample.samples; {lengths['replicates']} replicates; every chain is "
        "a run. Cells: `point / predictive` test error (RMSE of the modelled target, or "
        "accuracy), mean over runs; `pr` pruned, `rs` resampled.",
        "",
        "| start | switch | what | keys changed |",
        "|---|---|---|---|",
    ]
    for g in grid:
        what = DESCRIPTIONS.get(g["switch"], "")
        keys = ", ".join(
            sorted({k.split(".", 2)[-1] if k.startswith("datasets.") else k for k in g["changed"]})
        )
        note = "" if g["applicable"] else f" ({g['reason']})"
        lines.append(f"| {g['start']} | {g['switch']} | {what}{note} | {keys} |")
    for label in labels:
        other = next((lab for lab in labels if lab != label), "the other config")
        for g in grid:
            if g["start"] != label or g["switch"] == "base" or not g["applicable"]:
                continue
            lines += [
                "",
                f"## From {label}: {g['switch']} as in {other}",
                "",
                switch_table(summary, label, g["switch"], other),
            ]
    return "\n".join(lines) + "\n"
