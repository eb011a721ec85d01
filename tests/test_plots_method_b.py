"""Method B's figures and headline table (bayesprune.figures.method_b, bayesprune.tables.headline_method_b)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from bayesprune.bayes_factor import parse_rates_tried
from bayesprune.figures.method_b import (
    bf_accuracy_figure,
    bf_final_figure,
    bf_log_bf_figure,
    bf_sparsity_figure,
)
from bayesprune.figures.style import DPI, save_figure
from bayesprune.labels import METHOD_LABELS, gate_text
from bayesprune.report_html import table_html
from bayesprune.tables import headline_method_b

REPS = [0, 1]
RATES = (0.75, 0.5, 0.25)


def _epochs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-epoch logs and finals of every method; gated epochs try RATES largest first."""
    rng = np.random.default_rng(6)
    rows, finals = [], []
    for method in [*METHOD_LABELS]:
        for rep in REPS:
            sparsity = 0.0
            for epoch in range(1, 6):
                gated = method.startswith("bayes")
                tried, kept = [], np.nan
                if gated:
                    for r in RATES:
                        lb = float(rng.normal(-20 * r, 10))
                        tried.append((r, lb))
                        if lb > np.log(3):
                            kept = r
                            break
                accepted = (not np.isnan(kept)) if gated else method != "unpruned"
                if accepted:
                    sparsity = 1 - (1 - sparsity) * (1 - (kept if gated else 0.75))
                log_bf = tried[-1][1] if gated else np.nan
                rows.append(
                    {
                        "method": method,
                        "rep": rep,
                        "epoch": epoch,
                        "train_acc": 0.8 + 0.03 * epoch,
                        "test_acc": 0.78 + 0.03 * epoch - 0.05 * sparsity,
                        "sparsity": sparsity,
                        "log_bf": log_bf,
                        "log_bf_likelihood": log_bf - 2 if gated else np.nan,
                        "log_bf_prior": 2.0 if gated else np.nan,
                        "accepted": bool(accepted),
                        "rate": kept,
                        "rates_tried": ";".join(f"{r:g}:{lb:.6g}" for r, lb in tried),
                    }
                )
            finals.append(
                {
                    "dataset": "toy",
                    "rep": rep,
                    "method": method,
                    "test_acc": rows[-1]["test_acc"],
                    "sparsity": sparsity,
                    "kept_params": int(1000 * (1 - sparsity)),
                    "accepted_steps": 2,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(finals)


def _check_png(fig, path: Path) -> None:
    expected = tuple(round(v * DPI) for v in fig.get_size_inches()[::-1])
    save_figure(fig, path)
    assert path.stat().st_size > 10_000
    image = mpimg.imread(path)
    assert image.shape[:2] == expected
    assert image.std() > 0.01  # not blank


@pytest.mark.parametrize("kind", ["accuracy", "sparsity", "log_bf", "final"])
def test_method_b_figures_render(kind, tmp_path):
    epochs, finals = _epochs()
    fig = {
        "accuracy": lambda: bf_accuracy_figure(epochs),
        "sparsity": lambda: bf_sparsity_figure(epochs),
        "log_bf": lambda: bf_log_bf_figure(epochs, float(np.log(3))),
        "final": lambda: bf_final_figure(finals),
    }[kind]()
    _check_png(fig, tmp_path / f"{kind}.png")


def test_log_bf_figure_draws_every_tried_rate():
    epochs, _ = _epochs()
    fig = bf_log_bf_figure(epochs, float(np.log(3)))
    gated = epochs[epochs["method"].str.startswith("bayes")]
    n_tries = sum(len(parse_rates_tried(t)) for t in gated["rates_tried"])
    drawn = sum(
        len(c.get_offsets()) for ax in fig.axes for c in ax.collections if hasattr(c, "get_offsets")
    )
    assert drawn == n_tries  # one marker per tried rate, kept or rejected
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert [f"r = {r:g}" for r in RATES] == labels[: len(RATES)]


def test_final_figure_has_dense_reference_line():
    _, finals = _epochs()
    fig = bf_final_figure(finals)
    dense = 100 * finals.loc[finals["method"] == "unpruned", "test_acc"].mean()
    ys = [line.get_ydata()[0] for line in fig.axes[0].get_lines() if len(line.get_ydata()) == 2]
    assert any(np.isclose(y, dense) for y in ys)


def test_gate_text_names_the_settings():
    s = {"rates": [0.75, 0.5], "beta": 3.0, "likelihood_scale": 0.1, "prior_sigma2": 1.0}
    assert gate_text(s, 134.7) == (
        "r = 0.75 > 0.5, beta = 3, likelihood x 0.1 (N_eff 134.7), prior variance 1"
    )
    assert "sum likelihood" in gate_text({"rates": [0.75], "likelihood_reduction": "sum"})


def test_headline_method_b_reads_like_the_paper():
    _, finals = _epochs()
    b = headline_method_b(finals)
    assert list(b["method"])[:2] == ["unpruned", "bayes_random"]
    assert "±" in b.loc[0, "test accuracy (%)"]
    page = table_html(b, "Method B", "note")
    assert page.startswith("<!DOCTYPE html>") and "bayes_random" in page
