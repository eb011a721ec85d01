"""Method B's trade-off study: grid designs, a real (small) study, its tables and figure."""

from __future__ import annotations

import math

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import torch
from method_b_helpers import digits_split

from bayesprune import tradeoff as tr
from bayesprune.figures.style import save_figure
from bayesprune.figures.tradeoff import tradeoff_figure
from bayesprune.labels import method_label
from bayesprune.masked_networks import MaskedNetworkSpec

torch.set_num_threads(1)
CFG = {"kind": "mlp", "hidden": [32], "hidden_activation": "relu"}
TRAIN = {"epochs": 4, "batch_size": 32, "lr": 3e-3}
GRID = {
    "criteria": ["magnitude", "random"],
    "beta": [3.0],
    "rates": [[0.75, 0.5, 0.25, 0.1]],
    "likelihood_scale": [0.1, "mean"],
    "prior_sigma2": [1.0],
    "baseline_sparsities": [0.5, 0.9],
}
SETTINGS = tr.TradeoffSettings.from_params({"train": TRAIN, "grid": GRID})
NET = MaskedNetworkSpec.from_params(CFG)


@pytest.fixture(scope="module")
def digits():
    return digits_split(700, 500)


@pytest.fixture(scope="module")
def study(digits):
    frames = []
    for seed in (0, 1):
        f = tr.run_tradeoff(digits, NET, SETTINGS, seed=seed, n_classes=10)
        f.insert(0, "seed", seed)
        f.insert(0, "dataset", "digits")
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def test_grid_designs_count_and_base():
    grid = {
        "criteria": ["magnitude"],
        "beta": [3.0, 150.0],
        "rates": [[0.75, 0.5], [0.75]],
        "likelihood_scale": [0.1, "sum", 0.01],
        "prior_sigma2": [1.0, 0.1],
    }
    one = tr.grid_variants(grid)
    assert len(one) == 1 + 1 + 1 + 2 + 1
    base = one[0]
    assert (base.beta, base.rates, base.likelihood_scale, base.prior_sigma2) == (
        3.0,
        (0.75, 0.5),
        0.1,
        1.0,
    )
    # every other variant differs from the base in exactly one setting
    for v in one[1:]:
        diffs = sum(
            getattr(v, k) != getattr(base, k)
            for k in ("beta", "rates", "likelihood_scale", "prior_sigma2")
        )
        assert diffs == 1
    assert len(tr.grid_variants({**grid, "design": "product"})) == 2 * 2 * 3 * 2
    assert len(tr.grid_variants({**grid, "criteria": ["magnitude", "random"]})) == 12
    with pytest.raises(ValueError, match="decreasing"):
        tr.grid_variants({**grid, "rates": [[0.5, 0.75]]})
    with pytest.raises(ValueError, match="design"):
        tr.grid_variants({**grid, "design": "latin"})
    assert base.scale(200) == 0.1 and one[3].scale(200) == 1.0
    assert tr.Variant("random", 3.0, (0.5,), "mean", 1.0).scale(200) == 1 / 200


def test_study_rows_and_matched_baselines(study):
    s0 = study[study["seed"] == 0]
    assert list(s0.columns[2:]) == list(tr.COLUMNS)
    methods = s0["method"].value_counts()
    assert methods["unpruned"] == 1
    assert methods["bayes_magnitude"] == 2 and methods["bayes_random"] == 2
    gated = s0[s0["method"].str.startswith("bayes_")]
    reached = {round(x, 6) for x in gated["sparsity"] if x > 0}
    for method in tr.BASELINES:
        base = s0[s0["method"] == method]
        assert set(base["target_sparsity"].round(6)) == reached | {0.5, 0.9}
        assert set(base.loc[base["matched"], "target_sparsity"].round(6)) == reached
        # each baseline ends at its target sparsity (per layer, rounding only)
        np.testing.assert_allclose(base["sparsity"], base["target_sparsity"], atol=5e-3)
    # compression and FLOPs follow from the kept parameters and weights
    np.testing.assert_allclose(study["compression"], study["n_params"] / study["kept_params"])
    dense = s0.loc[s0["method"] == "unpruned"].iloc[0]
    assert dense["sparse_flops"] == dense["dense_flops"] == 64 * 32 + 32 * 10
    np.testing.assert_allclose(
        study["sparse_flops"], study["dense_flops"] * (1 - study["sparsity"]), rtol=1e-9
    )
    # the mean likelihood (N_eff = 1) opens the gate; the tempered one (N_eff = 50) less so
    mean_mag = gated[gated["variant"].str.contains("scale=mean")]
    assert (mean_mag["sparsity"] > 0.9).all()
    np.testing.assert_allclose(
        gated["effective_sample_size"], gated["likelihood_scale"] * 500, rtol=1e-12
    )


def test_study_is_reproducible(digits, study):
    again = tr.run_tradeoff(digits, NET, SETTINGS, seed=0, n_classes=10)
    first = study[study["seed"] == 0].drop(columns=["dataset", "seed"]).reset_index(drop=True)
    cols = [c for c in tr.COLUMNS if c != "seconds"]
    pd.testing.assert_frame_equal(first[cols], again[cols])


def test_matched_comparison_pairs_each_gated_run(study):
    comp = tr.matched_comparison(study)
    gated = study[study["method"].str.startswith("bayes_")]
    assert len(comp) == len(gated)
    pruned = comp[comp["sparsity"] > 0]
    assert pruned["gradual_magnitude_acc"].notna().all()
    assert pruned["oneshot_magnitude_acc"].notna().all()
    np.testing.assert_allclose(
        pruned["margin_vs_gradual_magnitude"],
        pruned["test_acc"] - pruned["gradual_magnitude_acc"],
    )
    # the baseline accuracy is the one of the same seed at the same sparsity
    row = pruned.iloc[0]
    base = study[
        (study["method"] == "gradual_magnitude")
        & (study["seed"] == row["seed"])
        & np.isclose(study["target_sparsity"].astype(float), row["sparsity"], atol=1e-6)
    ]
    assert math.isclose(base["test_acc"].iloc[0], row["gradual_magnitude_acc"])


def test_summary_and_claim_check(study):
    summary = tr.summarise_tradeoff(study)
    dense = summary[summary["method"] == "unpruned"].iloc[0]
    accs = study.loc[study["method"] == "unpruned", "test_acc"]
    assert math.isclose(dense["test_acc_mean"], accs.mean())
    assert math.isclose(dense["test_acc_std"], accs.std(ddof=1))
    assert (summary["seeds"] == 2).any()
    hits = tr.reaches(study, min_sparsity=0.0, max_drop=1.0)  # everything qualifies
    assert len(hits) == len(summary) - 1
    none = tr.reaches(study, min_sparsity=0.999999, max_drop=0.0)
    assert none.empty
    md = tr.tradeoff_markdown(study)
    assert md.count("| digits |") >= len(summary) and "gated - GMP (points)" in md


def test_tradeoff_figure(study, tmp_path):
    fig = tradeoff_figure(study)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("dense (unpruned)")
    for m in ("bayes_magnitude", "bayes_random", "gradual_magnitude", "oneshot_magnitude"):
        assert method_label(m) in labels
    path = tmp_path / "tradeoff.png"
    save_figure(fig, path)
    image = mpimg.imread(path)
    assert image.std() > 0.01 and path.stat().st_size > 20_000


def test_claim_check_counts_a_mean_of_exactly_95_percent():
    # three seeds at 95.0% average to 0.9499999999999999 in floats: that still counts
    rows = [
        {"dataset": "d", "method": "unpruned", "variant": "dense", "test_acc": 0.96, "sparsity": 0.0}
    ] * 3 + [
        {"dataset": "d", "method": "gradual_magnitude", "variant": "sparsity 0.9500",
         "test_acc": 0.955, "sparsity": 0.95},
        {"dataset": "d", "method": "gradual_magnitude", "variant": "sparsity 0.9500",
         "test_acc": 0.952, "sparsity": 0.95},
        {"dataset": "d", "method": "gradual_magnitude", "variant": "sparsity 0.9500",
         "test_acc": 0.953, "sparsity": 0.95},
        {"dataset": "d", "method": "oneshot_magnitude", "variant": "sparsity 0.9500",
         "test_acc": 0.949, "sparsity": 0.95},
    ]  # fmt: skip
    study = pd.DataFrame(rows).assign(compression=1.0, dense_flops=10, sparse_flops=1)
    assert tr.summarise_tradeoff(study)["sparsity_mean"].iloc[1] < 0.95  # the float sum
    hits = tr.reaches(study)
    assert list(hits["method"]) == ["gradual_magnitude"]  # one-shot is 1.1 points below dense
