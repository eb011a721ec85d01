"""The vectorised PSIS-LOO gives ArviZ's numbers: smoothed weights, Pareto k, ELPD, az.compare.

ArviZ is the reference (``az.psislw``, ``az.loo`` on float64 log likelihoods); agreement is
to 1e-10 (float64 rounding of a different summation order), ties and short tails included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesprune.arviz_setup import az
from bayesprune.psis import loo, psislw


def _idata(n_obs: int, chains: int, draws: int, seed: int, outliers: int = 3) -> az.InferenceData:
    """A normal-mean model's posterior draws and pointwise log likelihood, with a few
    outlying observations (heavy importance-ratio tails: some Pareto k above 0.7)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n_obs)
    y[:outliers] += np.linspace(4.0, 9.0, outliers)
    mu = y.mean() + rng.normal(scale=1 / np.sqrt(n_obs), size=(chains, draws))
    log_sd = rng.normal(scale=0.05, size=(chains, draws))
    ll = -0.5 * ((y - mu[..., None]) / np.exp(log_sd[..., None])) ** 2 - log_sd[..., None]
    return az.from_dict(
        posterior={"mu": mu, "log_sd": log_sd},
        log_likelihood={"y": ll},
        dims={"y": ["obs"]},
        coords={"obs": np.arange(n_obs)},
    )


@pytest.mark.parametrize(("chains", "draws", "seed"), [(4, 500, 0), (1, 800, 1), (2, 50, 2)])
def test_loo_matches_arviz(chains: int, draws: int, seed: int) -> None:
    idata = _idata(60, chains, draws, seed)
    ours = loo(idata)
    ref = az.loo(idata, pointwise=True)
    for key in ("elpd_loo", "se", "p_loo", "good_k"):
        assert ours[key] == pytest.approx(ref[key], rel=1e-10, abs=1e-10), key
    for key in ("n_samples", "n_data_points", "warning", "scale"):
        assert ours[key] == ref[key], key
    np.testing.assert_allclose(ours.loo_i.values, ref.loo_i.values, rtol=1e-10)
    np.testing.assert_allclose(ours.pareto_k.values, ref.pareto_k.values, rtol=1e-9, atol=1e-12)
    assert ours.loo_i.dims == ref.loo_i.dims and ours.pareto_k.dims == ref.pareto_k.dims
    assert ours.warning == bool(np.any(ref.pareto_k.values > ref.good_k))


def test_high_k_case_is_exercised() -> None:
    ref = az.loo(_idata(60, 4, 500, 0, outliers=6), pointwise=True)
    k = ref.pareto_k.values
    assert (k > 0.7).any() and (k < 0.5).any()


@pytest.mark.parametrize(("S", "decimals"), [(2000, None), (2000, 1), (400, 0), (20, None)])
def test_psislw_matches_arviz_with_ties_and_short_tails(S: int, decimals: int | None) -> None:
    """Rounded log weights tie at the cut-off (tail lengths differ between rows); 20 draws
    leave at most 4 in the tail (k = inf, no smoothing)."""
    rng = np.random.default_rng(S)
    raw = rng.standard_t(3, size=(40, S)) * rng.uniform(0.2, 3.0, size=(40, 1))
    if decimals is not None:
        raw = np.round(raw, decimals)
    lw, k = psislw(raw, reff=0.7)
    ref_lw, ref_k = az.psislw(raw.copy(), reff=0.7)
    np.testing.assert_allclose(k, ref_k, rtol=1e-9, atol=1e-12)
    # tied values may swap their smoothed weights: compare each row's sorted weights
    np.testing.assert_allclose(np.sort(lw, axis=1), np.sort(ref_lw, axis=1), rtol=1e-9, atol=1e-12)
    if S == 20:
        assert np.isinf(k).all()


def test_compare_takes_the_vectorised_loo() -> None:
    stages = {"a": _idata(60, 4, 300, 5), "b": _idata(60, 4, 300, 6, outliers=0)}
    ref = az.compare(stages, ic="loo")
    ours = az.compare({name: loo(idata) for name, idata in stages.items()}, ic="loo")
    assert list(ours.index) == list(ref.index)
    numeric = ["elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse"]
    pd.testing.assert_frame_equal(ours[numeric], ref[numeric], rtol=1e-8)


def test_loo_of_several_observation_dims() -> None:
    idata = _idata(24, 2, 200, 7)
    ll = idata.log_likelihood["y"].values.reshape(2, 200, 4, 6)
    two = az.from_dict(
        posterior={"mu": idata.posterior["mu"].values},
        log_likelihood={"y": ll},
        dims={"y": ["row", "col"]},
    )
    ours, ref = loo(two), az.loo(two, pointwise=True)
    assert ours.loo_i.dims == ("row", "col")
    np.testing.assert_allclose(ours.loo_i.values, ref.loo_i.values, rtol=1e-10)
    assert isinstance(ours.pareto_k, xr.DataArray)
