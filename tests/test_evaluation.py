"""Evaluation metrics against hand computations on tiny constructed networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from bayesprune import evaluation as ev
from bayesprune import mixtures
from bayesprune.networks import MLPSpec, sparse_bytes

REG = MLPSpec((2, 3, 1), "tanh")  # P = 6 + 3 + 3 + 1 = 13; output bias is index 12
CLS = MLPSpec((2, 3, 3), "tanh")  # P = 6 + 3 + 9 + 3 = 21; output biases 18..20
META_REG = {
    "task": "regression",
    "target_scaler": {"kind": "standard", "center": [5.0], "scale": [3.0]},
    "n_outputs": 1,
}
META_CLS = {"task": "classification", "n_outputs": 3, "class_names": ["a", "b", "c"]}


def _const_reg(biases: np.ndarray) -> np.ndarray:
    """Draws whose network predicts the constant ``bias`` everywhere (all weights zero)."""
    th = np.zeros((len(biases), REG.n_params))
    th[:, -1] = biases
    return th


def _const_cls(logits: np.ndarray) -> np.ndarray:
    th = np.zeros((len(logits), CLS.n_params))
    th[:, -3:] = logits
    return th


def _split(n_train: int, n_test: int, y_train: np.ndarray, y_test: np.ndarray) -> dict:
    rng = np.random.default_rng(0)
    return {
        "X_train": rng.normal(size=(n_train, 2)),
        "y_train": y_train,
        "X_test": rng.normal(size=(n_test, 2)),
        "y_test": y_test,
    }


def test_regression_rmse_point_and_predictive() -> None:
    y_tr = np.array([0.0, 1.0, 2.0, 3.0])
    y_te = np.array([1.0, -1.0, 0.5])
    split = _split(4, 3, y_tr, y_te)
    theta = _const_reg(np.array([0.0, 1.0, 2.0]))  # mean prediction 1.0
    tau2 = np.array([0.5, 1.0, 1.5])
    m, _ = ev.assess_posterior(REG, "regression", theta, tau2, split, META_REG)
    for part in ("point", "predictive"):
        assert m[part]["rmse_train"] == pytest.approx(math.sqrt(np.mean((y_tr - 1) ** 2)))
        assert m[part]["rmse_test"] == pytest.approx(math.sqrt(np.mean((y_te - 1) ** 2)))
        assert m[part]["rmse_test_original"] == pytest.approx(3 * m[part]["rmse_test"])
        assert m[part]["rmse_train_original"] == pytest.approx(3 * m[part]["rmse_train"])
    p = m["point"]
    assert p["nll_test"] == pytest.approx(-np.mean(stats.norm.logpdf(y_te, 1.0, 1.0)))
    assert p["width95_test"] == pytest.approx(2 * 1.959963984540054)
    assert p["coverage95_test"] == pytest.approx(2 / 3)  # |-1 - 1| = 2 > 1.96
    q = m["predictive"]
    dens = np.mean(
        [stats.norm.pdf(y_te, mu, math.sqrt(t)) for mu, t in zip([0, 1, 2], tau2, strict=True)],
        axis=0,
    )
    assert q["nll_test"] == pytest.approx(-np.mean(np.log(dens)))
    assert set(m["size"]) >= {"n_params", "n_kept", "bytes_dense", "bytes_sparse"}
    # no scaler: original = modelled
    m0, _ = ev.assess_posterior(
        REG, "regression", theta, tau2, split, {"target_scaler": {"kind": "none"}}
    )
    assert m0["point"]["rmse_test_original"] == m0["point"]["rmse_test"]


def _crps_numeric(cdf, y: float, lo: float, hi: float) -> float:
    a, _ = integrate.quad(lambda z: cdf(z) ** 2, lo, y, limit=200)
    b, _ = integrate.quad(lambda z: (1 - cdf(z)) ** 2, y, hi, limit=200)
    return a + b


def test_single_draw_gaussian_closed_forms() -> None:
    y_te = np.array([0.3, -1.2, 2.5, 0.0])
    split = _split(2, 4, np.zeros(2), y_te)
    mu, tau2 = 0.4, 0.64
    m, _ = ev.assess_posterior(REG, "regression", _const_reg(np.array([mu])), [tau2], split, {})
    sd = math.sqrt(tau2)
    nll = -np.mean(stats.norm.logpdf(y_te, mu, sd))
    z = (y_te - mu) / sd
    crps = np.mean(
        sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    )
    num = np.mean([_crps_numeric(lambda t: stats.norm.cdf(t, mu, sd), y, -20, 20) for y in y_te])
    assert crps == pytest.approx(num, rel=1e-6)
    lo, hi = stats.norm.ppf([0.025, 0.975], mu, sd)
    for part in ("point", "predictive"):
        assert m[part]["nll_test"] == pytest.approx(nll, rel=1e-10)
        assert m[part]["crps_test"] == pytest.approx(crps, rel=1e-10)
        assert m[part]["width95_test"] == pytest.approx(hi - lo, rel=1e-8)
        assert m[part]["coverage95_test"] == np.mean((y_te >= lo) & (y_te <= hi))


def test_mixture_crps_and_quantiles() -> None:
    rng = np.random.default_rng(1)
    mus = rng.normal(size=(7, 3))
    tau2 = rng.uniform(0.2, 1.0, size=7)
    y = np.array([0.1, -2.0, 1.5])

    def cdf_n(n):
        return lambda t: np.mean(stats.norm.cdf(t, mus[:, n], np.sqrt(tau2)))

    num = np.mean([_crps_numeric(cdf_n(n), y[n], -30, 30) for n in range(3)])
    assert mixtures.mixture_crps(y, mus, tau2) == pytest.approx(num, rel=1e-6)
    # subsampled between-component term: unbiased estimate, close for many draws
    mus_big = rng.normal(size=(600, 3))
    tau_big = rng.uniform(0.2, 1.0, size=600)
    exact = mixtures.mixture_crps(y, mus_big, tau_big, crps_pairs=600)
    approx = mixtures.mixture_crps(y, mus_big, tau_big, seed=3, crps_pairs=150)
    assert approx == pytest.approx(exact, rel=0.03)
    q = mixtures.mixture_quantiles(mus, tau2)
    for n in range(3):
        assert cdf_n(n)(q[0, n]) == pytest.approx(0.025, abs=1e-9)
        assert cdf_n(n)(q[1, n]) == pytest.approx(0.975, abs=1e-9)


def test_coverage_on_data_from_the_model() -> None:
    rng = np.random.default_rng(5)
    n_draws, n_test = 50, 4000
    c = rng.normal(0.0, 0.7, size=n_draws)
    tau2 = rng.uniform(0.1, 0.4, size=n_draws)
    pick = rng.integers(n_draws, size=n_test)
    y_te = c[pick] + np.sqrt(tau2[pick]) * rng.normal(size=n_test)
    split = _split(3, n_test, np.zeros(3), y_te)
    m, _ = ev.assess_posterior(REG, "regression", _const_reg(c), tau2, split, META_REG)
    se = math.sqrt(0.95 * 0.05 / n_test)
    assert abs(m["predictive"]["coverage95_test"] - 0.95) < 4 * se
    _, summ = ev.assess_posterior(REG, "regression", _const_reg(c), tau2, split, META_REG)
    assert summ["pred_lower95"].shape == (n_test,)
    inside = (y_te >= summ["pred_lower95"]) & (y_te <= summ["pred_upper95"])
    assert inside.mean() == pytest.approx(m["predictive"]["coverage95_test"])
    np.testing.assert_allclose(summ["pred_mean"], c.mean())
    np.testing.assert_allclose(summ["mean_upper95"], np.percentile(c, 97.5))


def test_pruned_entries_are_zero_in_every_draw() -> None:
    y_te = np.array([1.0, 2.0])
    split = _split(2, 2, np.zeros(2), y_te)
    theta = _const_reg(np.array([1.0, 3.0]))
    m, _ = ev.assess_posterior(REG, "regression", theta, [1.0, 1.0], split, META_REG, pruned=[12])
    assert m["point"]["rmse_test"] == pytest.approx(math.sqrt(2.5))
    assert m["predictive"]["rmse_test"] == pytest.approx(math.sqrt(2.5))
    assert m["size"]["n_kept"] == REG.n_params - 1
    b = sparse_bytes(REG.n_params - 1, REG.n_params)
    assert m["size"]["bytes_dense"] == b["dense"] and m["size"]["bytes_sparse"] == b["best"]


def test_classification_metrics_constant_network() -> None:
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pbar = probs.mean(0)  # predictive probs (same at every point)
    ppoint = np.exp(logits.mean(0)) / np.exp(logits.mean(0)).sum()
    y_tr = np.array([0, 0, 1, 2])
    y_te = np.array([0, 1, 0, 2, 0])
    split = _split(4, 5, y_tr, y_te)
    m, _ = ev.assess_posterior(CLS, "classification", _const_cls(logits), None, split, META_CLS)
    for part, p in (("predictive", pbar), ("point", ppoint)):
        r = m[part]
        assert np.argmax(p) == 0
        assert r["acc_train"] == pytest.approx(0.5)
        assert r["acc_test"] == pytest.approx(0.6)
        assert r["nll_test"] == pytest.approx(-np.mean(np.log(p[y_te])))
        onehot = np.eye(3)[y_te]
        assert r["brier_test"] == pytest.approx(np.mean(np.sum((p - onehot) ** 2, 1)))
        assert r["ece_test"] == pytest.approx(abs(0.6 - p.max()))
    _, s = ev.assess_posterior(CLS, "classification", _const_cls(logits), None, split, META_CLS)
    np.testing.assert_allclose(s["pred_probs"], np.tile(pbar, (5, 1)))
    np.testing.assert_allclose(s["point_probs"], np.tile(ppoint, (5, 1)))


def test_ece_constructed() -> None:
    # two bins: confidence 0.9 (4 points, 3 correct) and 0.6 (bin (8/15, 9/15]; 2 points, 2 correct)
    probs = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 2)
    y = np.array([0, 0, 0, 1, 0, 0])
    expected = 4 / 6 * abs(0.75 - 0.9) + 2 / 6 * abs(1.0 - 0.6)
    assert ev.ece(probs, y) == pytest.approx(expected)
    # a perfectly calibrated single bin gives 0
    assert ev.ece(np.array([[0.5, 0.5]] * 2), np.array([0, 1])) == pytest.approx(0.0)
    assert ev.brier(probs[:1], y[:1]) == pytest.approx(0.01 + 0.01)
