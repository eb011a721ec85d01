"""Tests for method B's training loop: every method end to end, seeds, rates and one-shot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from method_b_helpers import digits_split, run

from bayesprune import masked_networks as mn
from bayesprune import sparse_training as st
from bayesprune.bayes_factor import parse_rates_tried

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> dict:
    return digits_split()


def test_settings_from_params() -> None:
    params = {
        "train": {"epochs": 2, "batch_size": 64, "lr": 0.001},
        "rates": [0.75, 0.25],
        "beta": 3.0,
        "prior_sigma2": 1.0,
        "likelihood_reduction": "sum",
        "likelihood_scale": None,
    }
    s = st.MethodBSettings.from_params(params)
    assert s.train == st.TrainSettings(epochs=2, batch_size=64, lr=0.001)
    assert s.gate.rates == (0.75, 0.25) and s.gate.scale(10) == 1.0


def test_pruned_weights_stay_zero_and_sparsity_grows(digits) -> None:
    res = run("magnitude", digits, {"kind": "mlp", "hidden": [16]}, epochs=3, rates=0.5)
    h = res.history
    assert (np.diff(h["sparsity"]) > 0).all()
    for _, w, m in mn.prunable(res.model):
        assert bool((w[m == 0] == 0).all())


def test_same_seed_same_history(digits) -> None:
    kw = dict(epochs=3, batch_size=32, rates=0.3, beta=1e-3, seed=7)
    cfg = {"kind": "mlp", "hidden": [16]}
    r1 = run("bayes_random", digits, cfg, **kw)
    r2 = run("bayes_random", digits, cfg, **kw)
    cols = [c for c in st.HISTORY_COLUMNS if not c.endswith("seconds")]
    assert r1.history[cols].equals(r2.history[cols])
    assert r1.final["test_acc"] == r2.final["test_acc"]
    assert r1.final["sparsity"] == r2.final["sparsity"]
    r3 = run("bayes_random", digits, cfg, **{**kw, "seed": 8})
    assert not r1.history[cols].equals(r3.history[cols])


def test_every_method_end_to_end(digits) -> None:
    cfg = {"kind": "mlp", "hidden": [32, 16]}
    common = dict(epochs=3, batch_size=64, lr=1e-2, rates=0.5, beta=3.0, prior_sigma2=1.0, seed=1)
    finals = {}
    for method in st.METHODS:
        kw = dict(common)
        if method in st.MATCHED:
            kw["final_sparsity"] = 0.6
        res = run(method, digits, cfg, **kw)
        h, f = res.history, res.final
        assert list(h.columns) == list(st.HISTORY_COLUMNS)
        assert len(h) == 3 and h["accepted"].dtype == bool
        for key in ("method", "test_acc", "test_loss", "sparsity", "kept_params"):
            assert key in f
        assert f["kept_weights"] + (f["n_params"] - f["n_weights"]) == f["kept_params"]
        assert 0.0 <= f["test_acc"] <= 1.0
        gated = method.startswith("bayes_")
        assert h["log_bf"].notna().all() == gated
        if gated:
            np.testing.assert_allclose(
                h["log_bf"], h["log_bf_likelihood"] + h["log_bf_prior"], rtol=1e-9
            )
        finals[method] = f
    # with a tiny beta the gated run accepts every step, like the ungated one
    h_tiny = run("bayes_magnitude", digits, cfg, **{**common, "beta": 1e-300}).history
    assert h_tiny["accepted"].all()
    np.testing.assert_allclose(h_tiny["sparsity"], h_tiny["proposed_sparsity"])
    assert finals["unpruned"]["sparsity"] == 0.0 and finals["unpruned"]["accepted_steps"] == 0
    assert finals["random"]["sparsity"] == pytest.approx(1 - 0.5**3, abs=0.01)
    assert finals["magnitude"]["accepted_steps"] == 3
    assert finals["gradual_magnitude"]["sparsity"] == pytest.approx(0.6, abs=0.01)
    assert finals["oneshot_magnitude"]["sparsity"] == pytest.approx(0.6, abs=0.01)
    with pytest.raises(ValueError, match="final_sparsity"):
        run("gradual_magnitude", digits, cfg, epochs=1)
    with pytest.raises(ValueError, match="method"):
        run("lottery", digits, cfg, epochs=1)
    # a tiny CNN runs too; the mean reduction accepts (prior term dominates)
    cnn = {"kind": "cnn", "channels": [4], "hidden": [8]}
    f = run("bayes_magnitude", digits, cnn, epochs=2, rates=[0.3], likelihood_reduction="mean", beta=1.0).final  # fmt: skip
    assert f["sparsity"] > 0 and f["accepted_steps"] >= 1


def test_rates_step_down_until_one_passes(digits) -> None:
    rates = [0.75, 0.5, 0.25, 0.1]
    cfg = {"kind": "mlp", "hidden": [64], "hidden_activation": "relu"}
    kw = dict(epochs=8, batch_size=32, lr=3e-3, rates=rates, beta=1.0, seed=3)
    res = run("bayes_magnitude", digits, cfg, likelihood_scale=0.3, **kw)
    h, f = res.history, res.final
    log_beta = math.log(1.0)
    assert f["rates"] == rates and f["likelihood_scale"] == 0.3
    assert f["effective_sample_size"] == pytest.approx(0.3 * len(digits["y_train"]))
    prev = 0.0
    for _, row in h.iterrows():
        tried = parse_rates_tried(row["rates_tried"])
        assert [r for r, _ in tried] == rates[: len(tried)]  # largest first, in order
        assert all(lb <= log_beta for _, lb in tried[:-1])  # every earlier rate failed
        if row["accepted"]:
            assert tried[-1][1] > log_beta and row["rate"] == tried[-1][0]
            assert row["log_bf"] == pytest.approx(tried[-1][1], rel=1e-5)
            assert row["sparsity"] > prev
        else:
            assert len(tried) == len(rates) and math.isnan(row["rate"])
            assert row["sparsity"] == prev
        prev = row["sparsity"]
    # at this scale the gate visibly accepts some steps and rejects others
    assert 0 < h["accepted"].sum() < len(h)
    assert (h.loc[h["accepted"], "rate"] < rates[0]).any()  # a smaller rate passed
    # the summed likelihood (scale 1) keeps fewer weights out than the tempered gate
    assert run("bayes_magnitude", digits, cfg, **kw).final["sparsity"] < f["sparsity"]
    # a number is the one-element list: the paper's single rate
    h1 = run("bayes_magnitude", digits, cfg, **{**kw, "rates": 0.5}).history
    h2 = run("bayes_magnitude", digits, cfg, **{**kw, "rates": [0.5]}).history
    cols = [c for c in st.HISTORY_COLUMNS if not c.endswith("seconds")]
    assert h1[cols].equals(h2[cols])


def test_oneshot_prunes_once_then_fine_tunes(digits) -> None:
    cfg = {"kind": "mlp", "hidden": [32]}
    res = run("oneshot_magnitude", digits, cfg, epochs=5, final_sparsity=0.8, seed=2)
    h = res.history
    assert list(h["sparsity"][:1]) == [0.0]  # dense until epoch 5 // 2 = 2
    assert h["accepted"].tolist() == [False, True, False, False, False]
    assert h["sparsity"].iloc[1:].tolist() == pytest.approx([h["sparsity"].iloc[1]] * 4)
    assert h["sparsity"].iloc[-1] == pytest.approx(0.8, abs=0.01)
    for _, w, m in mn.prunable(res.model):
        assert bool((w[m == 0] == 0).all())  # fine-tuning leaves pruned weights at 0
    late = run("oneshot_magnitude", digits, cfg, epochs=5, final_sparsity=0.8, oneshot_epoch=4)
    assert late.history["accepted"].tolist() == [False, False, False, True, False]
    with pytest.raises(ValueError, match="final_sparsity"):
        run("oneshot_magnitude", digits, cfg, epochs=2)
