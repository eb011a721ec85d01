"""Scores of Gaussian and Gaussian-mixture predictive distributions (regression).

``gaussian_*``: one Gaussian ``N(mu, var)`` per point (the point estimate's predictive).
``mixture_*``: the equally weighted mixture ``(1/S) sum_s N(mu[s, n], tau2[s])`` of the
draws (the posterior predictive): negative log density by log-sum-exp, central quantiles by
safeguarded Newton on the exact mixture CDF, and the CRPS by the exact Gaussian-mixture
formula ``sum_s w_s A(y - mu_s, s2_s) - 1/2 sum_{s,t} w_s w_t A(mu_s - mu_t, s2_s + s2_t)``
with ``A(m, v) = E|N(m, v)|`` (the double sum exact for ``S <= crps_pairs``, otherwise an
unbiased estimate from a seeded subsample of draws). Definitions as used in ``metrics.json``:
:mod:`bayesprune.evaluation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit
from scipy.special import logsumexp, ndtr, ndtri

_LOG_2PI = float(np.log(2 * np.pi))


def gaussian_nll(y: np.ndarray, mu: np.ndarray, var: float | np.ndarray) -> float:
    """Mean negative log density of ``y`` under ``N(mu, var)``."""
    return float(np.mean(0.5 * (_LOG_2PI + np.log(var)) + 0.5 * (y - mu) ** 2 / var))


def _abs_normal_mean(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``E|X|`` for ``X ~ N(m, v)``: ``2 sd phi(m/sd) + m (2 Phi(m/sd) - 1)``."""
    sd = np.sqrt(v)
    z = m / sd
    return 2 * sd * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) + m * (2 * ndtr(z) - 1)


@njit(error_model="numpy", cache=True, fastmath={"contract", "reassoc", "nsz", "arcp"})
def _pair_abs_mean(ms: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Mean over component pairs ``i < j`` of ``E|X_i - X_j|``, ``X ~ N(ms[:, n], ts)``, per
    point ``n`` (:func:`_abs_normal_mean` of the difference, compiled: one pass per pair)."""
    k, n_pts = ms.shape
    off = np.zeros(n_pts)
    c = 2.0 / math.sqrt(2.0 * math.pi)
    r2 = 1.0 / math.sqrt(2.0)
    for i in range(k):
        a = ms[i]
        for j in range(i + 1, k):
            b = ms[j]
            sd = math.sqrt(ts[i] + ts[j])
            inv = 1.0 / sd
            for n in range(n_pts):
                m = a[n] - b[n]
                z = m * inv
                off[n] += c * sd * math.exp(-0.5 * z * z) + m * math.erf(z * r2)
    return off / max(k * (k - 1) // 2, 1)


def gaussian_crps(y: np.ndarray, mu: np.ndarray, var: float | np.ndarray) -> float:
    """Mean CRPS of ``N(mu, var)`` at ``y`` (closed form)."""
    sd = np.sqrt(var)
    z = (y - mu) / sd
    pdf = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return float(np.mean(sd * (z * (2 * ndtr(z) - 1) + 2 * pdf - 1 / np.sqrt(np.pi))))


def mixture_nll(y: np.ndarray, mu: np.ndarray, tau2: np.ndarray) -> float:
    """Mean ``-log (1/S) sum_s N(y_n; mu[s, n], tau2[s])`` over points; ``mu`` is ``(S, N)``."""
    t = tau2[:, None]
    logp = -0.5 * (_LOG_2PI + np.log(t)) - 0.5 * (y[None, :] - mu) ** 2 / t
    return float(-np.mean(logsumexp(logp, axis=0) - np.log(mu.shape[0])))


def mixture_quantiles(
    mu: np.ndarray,
    tau2: np.ndarray,
    probs: Sequence[float] = (0.025, 0.975),
    tol: float = 1e-10,
    max_iter: int = 100,
) -> np.ndarray:
    """Quantiles ``(len(probs), N)`` of the equal-weight mixtures ``N(mu[:, n], tau2)``.

    Root of the exact mixture CDF by safeguarded Newton (bisection whenever a Newton step
    leaves the bracket), compiled, one point at a time. The bracket starts at the smallest /
    largest component quantile, which always contains the mixture quantile; the first guess is
    the moment-matched Gaussian's quantile clipped into it; iteration stops when a step is
    below ``tol`` times the components' largest sd.
    """
    sd = np.sqrt(np.asarray(tau2, dtype=np.float64))
    m = np.ascontiguousarray(np.asarray(mu, dtype=np.float64).T)  # (N, S)
    out = np.empty((len(probs), m.shape[0]))
    for j, p in enumerate(probs):
        out[j] = _mixture_quantile(
            m, sd, float(p), float(ndtri(p)), tol * float(sd.max()), max_iter
        )
    return out


@njit(error_model="numpy", cache=True)
def _mixture_quantile(
    m: np.ndarray, sd: np.ndarray, p: float, zp: float, eps: float, max_iter: int
) -> np.ndarray:
    n_pts, S = m.shape
    out = np.empty(n_pts)
    inv_sd = 1.0 / sd
    mean_var = np.mean(sd * sd)
    r2 = 1.0 / math.sqrt(2.0)
    c = 1.0 / math.sqrt(2.0 * math.pi)
    for n in range(n_pts):
        row = m[n]
        lo = np.inf
        hi = -np.inf
        for s in range(S):
            q = row[s] + sd[s] * zp
            lo = min(lo, q)
            hi = max(hi, q)
        mean = np.mean(row)
        moment_sd = math.sqrt(np.mean((row - mean) ** 2) + mean_var)
        x = min(max(mean + moment_sd * zp, lo), hi)
        for _ in range(max_iter):
            g = 0.0
            dens = 0.0
            for s in range(S):
                z = (x - row[s]) * inv_sd[s]
                g += 0.5 * math.erfc(-z * r2)
                dens += math.exp(-0.5 * z * z) * c * inv_sd[s]
            g = g / S - p
            dens /= S
            if g < 0:
                lo = x
            else:
                hi = x
            newton = x - g / dens
            if math.isfinite(newton) and lo < newton < hi:
                x_new = newton
            else:
                x_new = 0.5 * (lo + hi)
            moving = abs(x_new - x) > eps
            x = x_new
            if not moving:
                break
        out[n] = x
    return out


def mixture_crps(
    y: np.ndarray,
    mu: np.ndarray,
    tau2: np.ndarray,
    seed: int = 0,
    crps_pairs: int = 200,
) -> float:
    """Mean CRPS of the equal-weight Gaussian mixtures ``N(mu[:, n], tau2)`` at ``y``.

    First term exact; the between-component term exact when ``S <= crps_pairs``, otherwise an
    unbiased estimate from a seeded subsample of ``crps_pairs`` components (exact diagonal plus
    the subsample's off-diagonal mean).
    """
    n_draws, n_pts = mu.shape
    term1 = _abs_normal_mean(y[None, :] - mu, tau2[:, None]).mean(axis=0)
    diag = _abs_normal_mean(np.zeros(1), 2 * tau2).mean()  # E|X_s - X_s'| for s = t
    if n_draws == 1:
        return float(np.mean(term1 - 0.5 * diag))
    sub = np.arange(n_draws)
    if n_draws > crps_pairs:
        sub = np.sort(np.random.default_rng(seed).choice(n_draws, crps_pairs, replace=False))
    off = _pair_abs_mean(
        np.ascontiguousarray(mu[sub], dtype=np.float64), np.asarray(tau2[sub], np.float64)
    )
    term2 = diag / n_draws + (n_draws - 1) / n_draws * off
    return float(np.mean(term1 - 0.5 * term2))
