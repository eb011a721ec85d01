"""Every figure kind renders from small synthetic inputs to a PNG of the expected pixel size."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from bayesprune.baselines import random_forest_probs
from bayesprune.figures.classification import reliability_figure, roc_figure
from bayesprune.figures.convergence import diagnostics_figure, parameter_density_figure
from bayesprune.figures.curves import pruning_curves_figure
from bayesprune.figures.predictions import predicted_vs_actual_figure
from bayesprune.figures.stage_bars import stage_bars_figure
from bayesprune.figures.style import DPI, save_figure
from bayesprune.figures.traces import trace_rank_figure
from bayesprune.report_html import table_html
from bayesprune.tables import headline_method_a

CRITERIA = ["stn", "rnd"]
RATES = [0.25, 0.5]
REPS = [0, 1]
P = 20


def _curves() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for crit in CRITERIA:
        for rep in REPS:
            for step in range(11):
                rows.append(
                    {
                        "criterion": crit,
                        "rep": rep,
                        "scope": "global",
                        "step": step,
                        "n_pruned": step,
                        "frac_pruned": step / P,
                        "metric": "rmse",
                        "test_error": 0.1
                        + 0.01 * step * (2 if crit == "rnd" else 1)
                        + 0.01 * rng.random(),
                    }
                )
    return pd.DataFrame(rows)


def _pruning_table(task: str = "regression") -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    col = "rmse_test" if task == "regression" else "acc_test"
    for rep, run in [(rep, run) for rep in REPS for run in (0, 1)]:
        keys = [("full", "none", 0.0)] + [
            (s, c, r) for c in CRITERIA for r in RATES for s in ("pruned", "resampled")
        ]
        for stage, crit, rate in keys:
            base = 0.1 if task == "regression" else 0.9
            sign = 1 if task == "regression" else -1
            shift = {"full": 0, "pruned": 0.05, "resampled": 0.02}[stage] * (1 + rate)
            rows.append(
                {
                    "dataset": "toy",
                    "rep": rep,
                    "run": f"chain{run}",
                    "chain": run,
                    "criterion": crit,
                    "rate": rate,
                    "stage": stage,
                    f"point_{col}": base + sign * shift + 0.01 * rng.random(),
                    f"predictive_{col}": base + sign * shift * 0.8 + 0.01 * rng.random(),
                    "size_n_kept": P - int(np.ceil(rate * P)),
                    "size_n_params": P,
                }
            )
    return pd.DataFrame(rows)


def _unpruned(task: str = "regression") -> pd.DataFrame:
    col = "point_rmse_test" if task == "regression" else "point_acc_test"
    return pd.DataFrame(
        {
            "dataset": ["toy", "toy"],
            "rep": REPS,
            col: [0.09, 0.1] if task == "regression" else [0.93, 0.92],
        }
    )


def _regression_summary(rng: np.random.Generator, noise: float) -> dict[str, np.ndarray]:
    y = rng.random(40)
    m = y + noise * rng.standard_normal(40)
    return {
        "y_true": y,
        "point_mean": m,
        "pred_mean": m,
        "pred_lower95": m - 0.1,
        "pred_upper95": m + 0.1,
        "mean_lower95": m - 0.05,
        "mean_upper95": m + 0.05,
    }


def _param_rows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for rep in REPS:
        keys = [("full", "none", 0.0)] + [
            (s, c, r) for c in CRITERIA for r in RATES for s in ("pruned", "resampled")
        ]
        for stage, crit, rate in keys:
            pruned = np.zeros(P, bool)
            if stage != "full":
                pruned[rng.choice(P, int(np.ceil(rate * P)), replace=False)] = True
            rhat = 1 + np.abs(rng.normal(0, 0.05, P))
            rhat[pruned] = np.nan
            for i in range(P):
                rows.append(
                    {
                        "stage": stage,
                        "criterion": crit,
                        "rate": rate,
                        "rep": rep,
                        "param": f"p{i}",
                        "index": i,
                        "mean": 0.0 if pruned[i] else rng.normal(0, 1),
                        "rhat": rhat[i],
                        "ess_bulk": rng.uniform(20, 400),
                        "pruned": pruned[i],
                    }
                )
    return pd.DataFrame(rows)


def _function_rows() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = []
    for rep in REPS:
        keys = [("full", "none", 0.0)] + [
            (s, c, r) for c in CRITERIA for r in RATES for s in ("pruned", "resampled")
        ]
        for stage, crit, rate in keys:
            for q in ("loglik", "lp", "pred"):
                rows.append(
                    {
                        "stage": stage,
                        "criterion": crit,
                        "rate": rate,
                        "rep": rep,
                        "quantity": q,
                        "rhat": 1 + abs(rng.normal(0, 0.02)),
                        "ess_bulk": rng.uniform(20, 300),
                    }
                )
    return pd.DataFrame(rows)


def _classification() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 60)
    out = {}
    for name, sharp in (
        ("full BNN", 2.0),
        ("pruned BNN", 1.0),
        ("resampled BNN", 1.5),
        ("random forest", 2.5),
    ):
        logits = rng.normal(0, 1, (60, 3))
        logits[np.arange(60), y] += sharp
        p = np.exp(logits)
        out[name] = p / p.sum(axis=1, keepdims=True)
    return y, out


def _check_png(fig, path: Path) -> None:
    expected = tuple(round(v * DPI) for v in fig.get_size_inches()[::-1])
    save_figure(fig, path)
    assert path.stat().st_size > 10_000
    image = mpimg.imread(path)
    assert image.shape[:2] == expected
    assert image.std() > 0.01  # not blank
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed


def _figures() -> dict[str, object]:
    rng = np.random.default_rng(7)
    full = _regression_summary(rng, 0.05)
    stages = {
        (stage, c, r): _regression_summary(rng, 0.05 + 0.1 * r)
        for stage in ("pruned", "resampled")
        for c in CRITERIA
        for r in RATES
    }
    chains = {f"layer0.weight[0,{i}]": rng.normal(i, 1, (2, 100)) for i in range(3)}
    y, probs = _classification()
    return {
        "curves": lambda: pruning_curves_figure(_curves(), rates=RATES, unpruned=_unpruned()),
        "bars_regression": lambda: stage_bars_figure(_pruning_table(), _unpruned()),
        "bars_classification": lambda: stage_bars_figure(
            _pruning_table("classification"), _unpruned("classification")
        ),
        "predictions": lambda: predicted_vs_actual_figure(
            full, stages, CRITERIA, RATES, scale=10.0, center=5.0
        ),
        "trace": lambda: trace_rank_figure(chains, {k: v + 0.1 for k, v in chains.items()}),
        "diagnostics": lambda: diagnostics_figure(_param_rows(), _function_rows()),
        "density": lambda: parameter_density_figure(_param_rows()),
        "roc": lambda: roc_figure(y, probs, ["a", "b", "c"]),
        "reliability": lambda: reliability_figure(y, probs),
    }


FIGURES = _figures()


@pytest.mark.parametrize("kind", sorted(FIGURES))
def test_figure_renders_to_png_of_expected_size(kind, tmp_path):
    fig = FIGURES[kind]()
    _check_png(fig, tmp_path / f"{kind}.png")
    if os.environ.get("BAYESPRUNE_PLOT_DIR"):  # keep a copy to look at
        out = Path(os.environ["BAYESPRUNE_PLOT_DIR"]) / f"{kind}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes((tmp_path / f"{kind}.png").read_bytes())


def test_binary_roc_shows_one_panel(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    p1 = np.clip(y * 0.6 + rng.random(50) * 0.4, 0, 1)
    fig = roc_figure(y, {"resampled BNN": np.stack([1 - p1, p1], axis=1)})
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    _check_png(fig, tmp_path / "roc2.png")


def test_save_figure_leaves_nothing_behind_on_error(tmp_path):
    fig = pruning_curves_figure(_curves())
    target = tmp_path / "fig.png"
    with pytest.raises(ValueError):
        save_figure(fig, target, dpi=-1)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_random_forest_probs_are_seeded():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 3)), rng.integers(0, 3, 80)
    a = random_forest_probs(x[:60], y[:60], x[60:], 4, seed=3)
    b = random_forest_probs(x[:60], y[:60], x[60:], 4, seed=3)
    assert a.shape == (20, 4) and np.allclose(a.sum(axis=1), 1) and np.array_equal(a, b)
    assert np.all(a[:, 3] == 0)  # a class absent from training gets probability 0


def test_headline_tables_read_like_the_papers():
    a = headline_method_a(_pruning_table(), _unpruned())
    assert list(a.columns[:4]) == ["dataset", "metric", "criterion", "removed"]
    assert len(a) == len(CRITERIA) * len(RATES)
    assert "±" in a.loc[0, "pruned"] and a.loc[0, "total params"] == P
    assert a.loc[0, "n_runs"] == 2 * len(REPS)  # every chain of every replicate is one run
    # counts print as integers in the CSV and Markdown ("266", not "266.0")
    assert f",{P}\n" in a.to_csv(index=False).splitlines(keepends=True)[1]
    c = headline_method_a(_pruning_table("classification"), _unpruned("classification"))
    assert c.loc[0, "metric"] == "test accuracy (%)" and float(c.loc[0, "full"].split(" ")[0]) > 50
    page = table_html(a, "Method A", "note")
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page


def _hlines(ax) -> list[float]:
    return [ln.get_ydata()[0] for ln in ax.get_lines() if len(set(ln.get_ydata())) == 1]


def test_pruning_curves_overlay_criteria_with_both_references():
    fig = pruning_curves_figure(_curves(), rates=RATES, unpruned=_unpruned())
    (ax,) = fig.axes
    curves = _curves()
    full = curves.loc[curves["step"] == 0, "test_error"].mean()
    levels = _hlines(ax)
    assert any(np.isclose(v, full) for v in levels)  # full posterior
    assert any(np.isclose(v, _unpruned()["point_rmse_test"].mean()) for v in levels)  # dense
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"STN (signal-to-noise)", "RND (random)", "dense network (Adam)"} <= set(labels)
    # one bold mean line per criterion, one thin line per run
    widths = sorted(ln.get_linewidth() for ln in ax.get_lines() if len(ln.get_xdata()) > 2)
    assert widths.count(2.0) == len(CRITERIA) and widths.count(0.6) == len(CRITERIA) * len(REPS)
    plt.close(fig)


def test_stage_bars_keep_a_zero_reference_visible():
    unpruned = _unpruned("classification").assign(point_acc_test=1.0)  # 0% error
    fig = stage_bars_figure(_pruning_table("classification"), unpruned)
    ax = fig.axes[0]
    assert 0.0 in _hlines(ax) and ax.get_ylim()[0] < 0.0
    plt.close(fig)


def test_rhat_panels_are_linear_with_the_threshold_and_a_count():
    params = _param_rows()
    params.loc[params.index[:5], "rhat"] = 1.9  # values up to 1.9 must stay readable
    fig = diagnostics_figure(params, _function_rows())
    rhat_axes = [ax for ax in fig.axes if ax.get_ylabel().endswith("R-hat")]
    assert rhat_axes
    for ax in fig.axes[: len(CRITERIA)] + fig.axes[2 * len(CRITERIA) : 3 * len(CRITERIA)]:
        assert ax.get_yscale() == "linear"
        assert 1.01 in _hlines(ax)
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert len(ticks) >= 4
        assert any("above 1.01" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_predicted_vs_actual_shows_the_full_posterior_once():
    figure = _figures()["predictions"]()
    titles = [ax.get_title() for ax in figure.axes]
    assert sum(t.startswith("full posterior") for t in titles) == 1
    assert len(figure.axes) == 1 + len(CRITERIA) * len(RATES)
    plt.close(figure)


def test_trace_statistics_sit_inside_their_panels():
    figure = _figures()["trace"]()
    for ax in figure.axes[::2]:
        title = ax.get_title(loc="left")
        assert title and "R-hat" not in title
        assert any(t.get_text().startswith("R-hat") for t in ax.texts)
    plt.close(figure)


def test_roc_and_reliability_draw_their_diagonals():
    y, probs = _classification()
    for fig in (roc_figure(y, probs, ["a", "b", "c"]), reliability_figure(y, probs)):
        diagonals = [
            ln
            for ax in fig.axes
            for ln in ax.get_lines()
            if list(ln.get_xdata()) == [0, 1] and list(ln.get_ydata()) == [0, 1]
        ]
        assert diagonals, fig
        plt.close(fig)
