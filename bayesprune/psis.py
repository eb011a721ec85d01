"""Pareto-smoothed importance sampling LOO (PSIS-LOO), vectorised over observations.

The same estimator as ArviZ's ``az.loo`` / ``az.psislw`` (Vehtari, Gelman and Gabry 2017;
Vehtari et al. 2024): per observation, the importance ratios ``1 / p(y_i | theta_s)`` get
their largest ``M = ceil(min(S / 5, 3 sqrt(S / r_eff)))`` values replaced by the quantiles
of a generalised Pareto distribution fitted to them (Zhang and Stephens' empirical-Bayes
fit with ArviZ's weakly informative prior on ``k``), truncated at the largest raw ratio and
normalised. ArviZ runs that fit in a Python loop, one observation at a time; here every
observation with the same tail length is fitted at once, as array operations (the loo job of
one Abalone replicate, 76 runs of 2,506 observations: 34.0 s with az.loo, 24.7 s with this).

:func:`loo` returns ArviZ's own :class:`~arviz.ELPDData` (``az.compare`` takes it as it
is), with ``r_eff`` from ArviZ's ``az.ess`` as ``az.loo`` computes it. The arithmetic is
float64 throughout (ArviZ keeps the stored float32 log likelihood's precision in parts);
the tests check agreement with ``az.loo`` to 1e-10 on float64 input.
"""

from __future__ import annotations

import numpy as np

from bayesprune.arviz_setup import az

#: ArviZ's lower bound on the cut-off log weight (``log`` of the smallest normal float)
CUTOFF_MIN = float(np.log(np.finfo(float).tiny))
#: observations fitted together (bounds the ``(block, m, M)`` work array)
BLOCK = 256


def _logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - top), axis=axis)) + np.squeeze(top, axis=axis)


def _gpd_fit(tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape ``k`` and scale ``sigma`` of a generalised Pareto distribution for each row of
    ``tail`` ``(B, n)`` (ascending exceedances), by Zhang and Stephens' (2009) posterior mean
    of ``b = -k / sigma`` over a grid, then ArviZ's prior on ``k`` (10 pseudo-observations
    at 0.5)."""
    n = tail.shape[1]
    m = 30 + int(n**0.5)
    grid = 1.0 - np.sqrt(m / (np.arange(1, m + 1, dtype=np.float64) - 0.5))
    b = (
        grid[None, :] / (3.0 * tail[:, int(n / 4 + 0.5) - 1])[:, None]
        + (1.0 / tail[:, -1])[:, None]
    )
    k = np.log1p(-b[:, :, None] * tail[:, None, :]).mean(axis=2)  # (rows, m)
    with np.errstate(divide="ignore", invalid="ignore"):  # grid points off the support
        profile = n * (np.log(-(b / k)) - k - 1.0)
    weights = 1.0 / np.exp(profile[:, None, :] - profile[:, :, None]).sum(axis=2)
    weights = np.where(weights >= 10 * np.finfo(float).eps, weights, 0.0)  # negligible ones
    weights /= weights.sum(axis=1, keepdims=True)
    b_post = (b * weights).sum(axis=1)
    k_post = np.log1p(-b_post[:, None] * tail).mean(axis=1)
    sigma = -k_post / b_post
    return (n * k_post + 10 * 0.5) / (n + 10), sigma


def _gpd_quantiles(n: int, k: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The ``(i - 0.5) / n`` quantiles, ``i = 1..n``, of each row's fitted distribution."""
    p = (np.arange(0.5, n) / n)[None, :]
    small = np.abs(k) < np.finfo(float).eps
    safe_k = np.where(small, 1.0, k)[:, None]
    q = np.where(small[:, None], -np.log1p(-p), np.expm1(-safe_k * np.log1p(-p)) / safe_k)
    return np.where((sigma > 0)[:, None], q * sigma[:, None], np.nan)


def psislw(log_weights: np.ndarray, reff: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed, normalised log weights ``(N, S)`` and Pareto shapes ``k`` ``(N,)`` of raw log
    weights ``(N, S)`` (one row per observation), as ``az.psislw``."""
    x = np.array(log_weights, dtype=np.float64)
    N, S = x.shape
    x -= x.max(axis=1, keepdims=True)
    cutoff = -int(np.ceil(min(S / 5.0, 3 * (S / reff) ** 0.5))) - 1
    order = np.argsort(x, axis=1)
    ranked = np.take_along_axis(x, order, axis=1)
    xcut = np.maximum(ranked[:, cutoff], CUTOFF_MIN)
    tail_len = (x > xcut[:, None]).sum(axis=1)  # ties at the cut-off stay in the body
    k = np.full(N, np.inf)
    for n in np.unique(tail_len[tail_len > 4]):
        rows_all = np.flatnonzero(tail_len == n)
        for start in range(0, len(rows_all), BLOCK):
            rows = rows_all[start : start + BLOCK]
            exp_cut = np.exp(xcut[rows])[:, None]
            tail = np.exp(ranked[rows, S - n :]) - exp_cut  # the n largest, ascending
            k_rows, sigma = _gpd_fit(tail)
            k[rows] = k_rows
            fit = np.isfinite(k_rows)
            smoothed = np.log(_gpd_quantiles(n, k_rows[fit], sigma[fit]) + exp_cut[fit])
            r = rows[fit]
            x[r[:, None], order[r, S - n :]] = smoothed
            x[r] = np.minimum(x[r], 0.0)  # truncated at the largest raw ratio
    return x - _logsumexp(x)[:, None], k


def loo(idata: az.InferenceData, var_name: str = "y") -> az.ELPDData:
    """PSIS-LOO of ``idata``'s pointwise log likelihood ``var_name``, as
    ``az.loo(idata, pointwise=True)`` (log scale): an :class:`~arviz.ELPDData`."""
    ll_da = idata.log_likelihood[var_name]
    obs_dims = [d for d in ll_da.dims if d not in ("chain", "draw")]
    ll_da = ll_da.transpose(*obs_dims, "chain", "draw")
    ll = np.asarray(ll_da.values, dtype=np.float64).reshape(
        -1, ll_da.sizes["chain"] * ll_da.sizes["draw"]
    )
    N, S = ll.shape
    posterior = idata.posterior
    if posterior.sizes["chain"] == 1:
        reff = 1.0
    else:
        ess_p = az.ess(posterior, method="mean")
        reff = float(np.hstack([ess_p[v].values.flatten() for v in ess_p.data_vars]).mean() / S)
    log_weights, k = psislw(-ll, reff)
    loo_i = _logsumexp(log_weights + ll)
    elpd = float(loo_i.sum())
    lppd = float((_logsumexp(ll) - np.log(S)).sum())
    good_k = min(1 - 1 / np.log10(S), 0.7)
    template = ll_da.isel(chain=0, draw=0, drop=True)
    loo_da = template.copy(data=loo_i.reshape(template.shape)).rename("loo_i")
    k_da = template.copy(data=k.reshape(template.shape)).rename("pareto_shape")
    return az.ELPDData(
        data=[
            elpd,
            float((N * np.var(loo_i)) ** 0.5),
            lppd - elpd,
            S,
            N,
            bool(np.any(k > good_k)),
            loo_da,
            k_da,
            "log",
            good_k,
        ],
        index=[
            "elpd_loo",
            "se",
            "p_loo",
            "n_samples",
            "n_data_points",
            "warning",
            "loo_i",
            "pareto_k",
            "scale",
            "good_k",
        ],
    )
