"""ArviZ diagnostics in parameter and function space on synthetic chains."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pandas as pd
import pytest

from bayesprune import diagnostics
from bayesprune.networks import MLPSpec

REG = MLPSpec((2, 3, 1), "tanh")  # P = 13
CLS = MLPSpec((2, 3, 3), "tanh")  # P = 21


def _idata(theta: np.ndarray, spec: MLPSpec, tau2: bool = True, **attrs) -> az.InferenceData:
    rng = np.random.default_rng(123)
    n_chains, n_draws, _ = theta.shape
    post = {"theta": theta}
    if tau2:
        post["tau2"] = np.exp(rng.normal(size=(n_chains, n_draws)) * 0.1)
    idata = az.from_dict(
        posterior=post,
        sample_stats={
            "lp": rng.normal(size=(n_chains, n_draws)),
            "loglik": rng.normal(size=(n_chains, n_draws)),
            "accepted": rng.random((n_chains, n_draws)) < np.linspace(0.3, 0.6, n_chains)[:, None],
            "diverging": np.zeros((n_chains, n_draws), dtype=bool),
        },
        dims={"theta": ["param"]},
        coords={"param": spec.param_names()},
    )
    idata.posterior.attrs.update(attrs)
    return idata


def _x(m: int = 6) -> np.ndarray:
    return np.random.default_rng(9).normal(size=(m, 2))


def test_iid_chains_converge() -> None:
    n_chains, n_draws = 4, 500
    theta = np.random.default_rng(0).normal(size=(n_chains, n_draws, REG.n_params))
    idata = _idata(theta, REG)
    d = diagnostics.diagnose(idata, REG, _x(), "regression")
    p = d["parameter"]
    n = n_chains * n_draws
    assert p["rhat_max"] < 1.02
    assert abs(p["rhat_median"] - 1.0) < 0.01
    assert p["rhat_frac_gt_1_01"] <= 0.25
    assert 0.7 * n < p["ess_bulk_median"] < 1.3 * n
    assert p["ess_bulk_min"] > 0.6 * n and p["ess_tail_min"] > 0.6 * n
    assert p["mcse_mean_max"] < 3 / np.sqrt(n)
    assert p["n_diagnosed"] == REG.n_params and p["n_excluded"] == 0
    assert set(p["tau2"]) == {"rhat", "ess_bulk", "ess_tail", "mcse_mean"}
    f = d["function"]
    assert set(f) == {"loglik", "lp", "pred"}
    for key in ("loglik", "lp"):
        assert set(f[key]) >= {"rhat", "ess_bulk", "ess_tail"}
        assert abs(f[key]["rhat"] - 1) < 0.02
    assert f["pred"]["quantity"] == "mean" and f["pred"]["n_points"] == 6
    assert f["pred"]["rhat_max"] < 1.02
    acc = idata.sample_stats["accepted"].values.mean(axis=1)
    np.testing.assert_allclose(d["acceptance"], acc)
    assert d["divergences"] == [0] * n_chains
    assert d["notes"] == []


def test_shifted_chains_do_not_converge() -> None:
    theta = np.random.default_rng(1).normal(size=(4, 300, REG.n_params))
    theta += 3.0 * np.arange(4)[:, None, None]
    d = diagnostics.diagnose(_idata(theta, REG), REG, _x(), "regression")
    assert d["parameter"]["rhat_max"] > 1.5
    assert d["parameter"]["rhat_median"] > 1.5
    assert d["parameter"]["rhat_frac_gt_1_01"] == 1.0
    assert d["function"]["pred"]["rhat_max"] > 1.1


def test_constants_and_mask_are_excluded() -> None:
    theta = np.random.default_rng(2).normal(size=(3, 200, REG.n_params))
    theta[..., 4] = 0.0  # constant (e.g. pruned and resampled)
    idata = _idata(theta, REG, mask=json.dumps([7]))
    table = diagnostics.per_parameter_table(idata)
    assert list(table.columns[:8]) == [
        "param", "index", "mean", "sd", "rhat", "ess_bulk", "ess_tail", "mcse_mean",
    ]  # fmt: skip
    assert len(table) == REG.n_params + 1 and table["param"].iloc[-1] == "tau2"
    assert table.loc[4, "excluded"] and np.isnan(table.loc[4, "rhat"])
    assert table.loc[7, "pruned"] and np.isnan(table.loc[7, "ess_bulk"])
    assert table.loc[0, "param"] == "layer0.weight[0,0]"
    d = diagnostics.diagnose(idata, REG, _x(), "regression", param_table=table)
    assert d["parameter"]["n_excluded"] == 2 and d["parameter"]["n_pruned"] == 1
    assert np.isfinite(d["parameter"]["rhat_max"])


def test_single_chain_rhat_is_nan() -> None:
    theta = np.random.default_rng(3).normal(size=(1, 400, REG.n_params))
    d = diagnostics.diagnose(_idata(theta, REG), REG, _x(), "regression")
    assert np.isnan(d["parameter"]["rhat_max"])
    assert np.isnan(d["parameter"]["rhat_frac_gt_1_01"])
    assert np.isnan(d["function"]["loglik"]["rhat"])
    assert d["parameter"]["ess_bulk_min"] > 200
    assert diagnostics.SINGLE_CHAIN_NOTE in d["notes"]
    assert len(d["acceptance"]) == 1


@pytest.mark.parametrize("with_y", [True, False])
def test_classification_predictions(with_y: bool) -> None:
    theta = np.random.default_rng(4).normal(size=(2, 200, CLS.n_params))
    idata = _idata(theta, CLS, tau2=False)
    y = np.array([0, 1, 2, 0, 1, 2]) if with_y else None
    d = diagnostics.diagnose(idata, CLS, _x(), "classification", y_points=y)
    pred = d["function"]["pred"]
    assert pred["quantity"] == ("prob_true_class" if with_y else "prob_predictive_class")
    assert pred["n_diagnosed"] == 6 and np.isfinite(pred["rhat_max"])
    assert "tau2" not in d["parameter"]


def test_masked_table_equals_recomputed_table_of_the_masked_posterior():
    from bayesprune.diagnostics import mask_parameter_table, per_parameter_table

    rng = np.random.default_rng(3)
    theta = rng.normal(size=(3, 200, 6))
    idata = az.from_dict(
        posterior={"theta": theta},
        coords={"param": [f"p{i}" for i in range(6)]},
        dims={"theta": ["param"]},
    )
    pruned = np.array([1, 4])
    derived = mask_parameter_table(per_parameter_table(idata), pruned)
    masked = theta.copy()
    masked[..., pruned] = 0.0
    direct = per_parameter_table(
        az.from_dict(
            posterior={"theta": masked},
            coords={"param": [f"p{i}" for i in range(6)]},
            dims={"theta": ["param"]},
        )
    )
    pd.testing.assert_frame_equal(
        derived.drop(columns="pruned"), direct.drop(columns="pruned"), check_dtype=False
    )
    assert derived["pruned"].tolist() == [i in pruned for i in range(6)]


@pytest.mark.parametrize(("chains", "draws"), [(4, 500), (2, 1001), (1, 301), (8, 250), (4, 7)])
def test_vectorised_statistics_equal_arviz(chains: int, draws: int) -> None:
    """rank R-hat, bulk/tail ESS and MCSE of the mean of many columns at once equal ArviZ's
    one-at-a-time values (autocorrelated, constant, tied and NaN columns)."""
    import xarray as xr

    from bayesprune.diagnostics import _stats

    rng = np.random.default_rng(chains * draws)
    v = np.cumsum(rng.normal(size=(chains, draws, 12)), axis=1) * 0.1
    v += rng.normal(size=v.shape)
    v[:, :, 0] = 3.0
    v[:, :, 1] = rng.integers(0, 3, (chains, draws))
    v[0, 5, 2] = np.nan
    ds = xr.Dataset({"x": (("chain", "draw", "k"), v)})
    ours = _stats(v)
    ref = {
        "rhat": az.rhat(ds, method="rank")["x"].values if chains > 1 else np.full(12, np.nan),
        "ess_bulk": az.ess(ds, method="bulk")["x"].values,
        "ess_tail": az.ess(ds, method="tail")["x"].values,
        "mcse_mean": az.mcse(ds, method="mean")["x"].values,
    }
    for key, expected in ref.items():
        np.testing.assert_allclose(ours[key], np.asarray(expected, float), rtol=1e-10)
