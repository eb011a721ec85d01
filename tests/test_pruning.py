"""Pruning scores, masks, masked means and pruning curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesprune import pruning
from bayesprune.networks import MLPSpec

SPEC = MLPSpec((3, 4, 2))  # P = 12 + 4 + 8 + 2 = 26


def _draws() -> np.ndarray:
    # three parameters with hand-picked (mean, std): STN and SPN disagree on the order
    # p0: mean 1, std 1   -> stn 1,   spn 2,   mag 1
    # p1: mean 0.1, std 0.01 -> stn 10, spn 0.11, mag 0.1
    # p2: mean -3, std 6  -> stn 0.5, spn 9,   mag 3
    base = np.array([-1.0, 1.0])  # mean 0, std (ddof=1) sqrt(2)
    unit = base / np.sqrt(2.0)  # mean 0, std 1
    return np.stack([1 + unit, 0.1 + 0.01 * unit, -3 + 6 * unit], axis=1)


def test_stn_spn_mag_definitions() -> None:
    d = _draws()
    np.testing.assert_allclose(pruning.scores(d, "stn"), [1.0, 10.0, 0.5])
    np.testing.assert_allclose(pruning.scores(d, "spn"), [2.0, 0.11, 9.0])
    np.testing.assert_allclose(pruning.scores(d, "mag"), [1.0, 0.1, 3.0])
    assert list(pruning.prune_order(pruning.scores(d, "stn"))) == [2, 0, 1]
    assert list(pruning.prune_order(pruning.scores(d, "spn"))) == [1, 0, 2]
    assert list(pruning.prune_order(pruning.scores(d, "MAG"))) == [1, 0, 2]


def test_stn_constant_parameters() -> None:
    d = np.array([[0.0, 2.0, 1.0], [0.0, 2.0, 3.0]])
    s = pruning.scores(d, "stn")
    assert s[0] == 0.0 and np.isinf(s[1]) and s[2] == pytest.approx(2 / np.sqrt(2))


def test_scores_pool_chains_and_need_two_draws() -> None:
    d = np.random.default_rng(0).normal(size=(2, 50, 5))
    np.testing.assert_allclose(pruning.scores(d, "spn"), pruning.scores(d.reshape(100, 5), "spn"))
    with pytest.raises(ValueError):
        pruning.scores(np.ones((1, 5)), "stn")
    with pytest.raises(ValueError):
        pruning.scores(d, "rnd")  # no seed
    with pytest.raises(ValueError):
        pruning.scores(d, "xyz")


def test_rnd_reproducible_and_uniform() -> None:
    d = np.zeros((3, SPEC.n_params))
    a = pruning.make_mask(pruning.scores(d, "rnd", seed=7), 0.5, SPEC)
    b = pruning.make_mask(pruning.scores(d, "rnd", seed=7), 0.5, SPEC)
    c = pruning.make_mask(pruning.scores(d, "rnd", seed=8), 0.5, SPEC)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # frequency each parameter is pruned across seeds: Binomial(n_seeds, k/P) per parameter
    n_seeds, rate = 2000, 0.25
    k = math.ceil(rate * SPEC.n_params)
    counts = np.zeros(SPEC.n_params)
    for seed in range(n_seeds):
        counts[pruning.make_mask(pruning.scores(d, "rnd", seed=seed), rate, SPEC)] += 1
    p = k / SPEC.n_params
    expected = n_seeds * p
    se = math.sqrt(n_seeds * p * (1 - p))
    assert np.all(np.abs(counts - expected) < 4.5 * se)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    # Pearson statistic over P cells ~ chi2(P-1) approx (mean 25, sd ~7); generous bound
    assert chi2 < 70


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.25, 0.5, 0.7, 0.75, 0.9, 0.95, 1.0])
def test_counts_global_and_layer(rate: float) -> None:
    s = np.random.default_rng(1).random(SPEC.n_params)
    m = pruning.make_mask(s, rate, SPEC, "global")
    assert m.dtype == np.int64 and np.all(np.diff(m) > 0)
    assert m.size == math.ceil(round(rate * 26, 9))
    layer = SPEC.param_layer()
    is_bias = SPEC.param_is_bias()
    ml = pruning.make_mask(s, rate, SPEC, "layer")
    for ell, n in enumerate([16, 10]):
        assert np.sum(layer[ml] == ell) == math.ceil(round(rate * n, 9))
    mb = pruning.make_mask(s, rate, SPEC, "global", include_biases=False)
    assert not is_bias[mb].any()
    assert mb.size == math.ceil(round(rate * 20, 9))
    mlb = pruning.make_mask(s, rate, SPEC, "layer", include_biases=False)
    assert not is_bias[mlb].any()
    for ell, n in enumerate([12, 8]):
        assert np.sum(layer[mlb] == ell) == math.ceil(round(rate * n, 9))


def test_ceil_and_lowest_first_and_ties() -> None:
    assert pruning.prune_count(0.7, 10) == 7
    assert pruning.prune_count(0.71, 10) == 8
    s = np.arange(SPEC.n_params, dtype=float)[::-1].copy()  # last index has lowest score
    m = pruning.make_mask(s, 0.1, SPEC)
    np.testing.assert_array_equal(m, [23, 24, 25])
    ties = np.zeros(SPEC.n_params)
    np.testing.assert_array_equal(pruning.make_mask(ties, 0.1, SPEC), [0, 1, 2])


def test_masked_mean_exact_zeros() -> None:
    d = np.random.default_rng(2).normal(3.0, 1.0, size=(2, 40, SPEC.n_params))
    m = pruning.masked_mean(d, np.array([0, 5, 25]))
    assert m[0] == 0.0 and m[5] == 0.0 and m[25] == 0.0
    np.testing.assert_allclose(m[1], d[..., 1].mean())
    np.testing.assert_array_equal(pruning.masked_mean(d, []), d.reshape(-1, 26).mean(0))


def test_mask_roundtrip() -> None:
    d = pruning.mask_to_dict(np.array([3, 1]), SPEC, rate=0.1, criterion="stn", scope="global")
    assert d["names"] == ["layer0.weight[0,1]", "layer0.weight[1,0]"]
    np.testing.assert_array_equal(pruning.mask_from_dict(d, SPEC), [1, 3])
    with pytest.raises(ValueError):
        pruning.mask_from_dict(d, MLPSpec((3, 5, 2)))


def _problem(task: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    spec = MLPSpec((3, 6, 1 if task == "regression" else 3), "tanh")
    true = rng.normal(size=spec.n_params)
    from bayesprune.networks import forward_numpy

    x = rng.normal(size=(80, 3))
    out = forward_numpy(spec, true, x)
    if task == "regression":
        y = out[:, 0] + 0.1 * rng.normal(size=80)
    else:
        y = np.argmax(out, axis=1)
    draws = true + 0.05 * rng.normal(size=(200, spec.n_params))
    split = {"X_train": x[:40], "y_train": y[:40], "X_test": x[40:], "y_test": y[40:]}
    meta = {"task": task, "target_scaler": {"kind": "standard", "center": [1.0], "scale": [2.0]}}
    return spec, draws, split, meta


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_pruning_curve(task: str) -> None:
    spec, draws, split, meta = _problem(task)
    from bayesprune.evaluation import assess_posterior

    tau2 = np.full(draws.shape[0], 0.01)
    for crit in pruning.CRITERIA:
        curve = pruning.pruning_curve(spec, task, draws, split, meta, crit, 3, 1.0, tau2_draws=tau2)
        assert len(curve) == spec.n_params + 1
        assert list(curve["n_pruned"]) == list(range(spec.n_params + 1))
        assert curve["frac_pruned"].iloc[-1] == 1.0
        first = curve.iloc[0]
        ref = assess_posterior(spec, task, draws, tau2, split, meta)[0]["point"]
        if task == "regression":
            assert first["test_error"] == pytest.approx(ref["rmse_test"])
            assert first["test_nll"] == pytest.approx(ref["nll_test"])
            assert first["test_rmse_original"] == pytest.approx(2 * ref["rmse_test"])
        else:
            assert first["test_error"] == pytest.approx(1 - ref["acc_test"])
            assert first["test_nll"] == pytest.approx(ref["nll_test"])
        # last row: everything pruned = the all-zero network; early steps barely hurt
        assert curve["test_error"].iloc[-1] >= first["test_error"]
    stn = pruning.pruning_curve(spec, task, draws, split, meta, "stn", None, 0.5, n_points=5)
    assert len(stn) == 5 and stn["n_pruned"].iloc[0] == 0
    assert stn["n_pruned"].iloc[-1] == math.ceil(0.5 * spec.n_params)


def test_pruning_curve_matches_make_mask() -> None:
    spec, draws, split, meta = _problem("regression")
    curve = pruning.pruning_curve(spec, "regression", draws, split, meta, "spn", None, 0.5)
    s = pruning.scores(draws, "spn")
    m = pruning.make_mask(s, 0.5, spec)
    from bayesprune.evaluation import assess_posterior

    ref = assess_posterior(spec, "regression", draws, None, split, meta, pruned=m)[0]["point"]
    row = curve[curve["n_pruned"] == m.size].iloc[0]
    assert row["test_error"] == pytest.approx(ref["rmse_test"])
    layer = pruning.pruning_curve(
        spec, "regression", draws, split, meta, "spn", None, 0.5, scope="layer"
    )
    assert layer["n_pruned"].is_monotonic_increasing
