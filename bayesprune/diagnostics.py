"""Convergence diagnostics of method-A posteriors with ArviZ, in parameter and function space.

All R-hat / ESS / MCSE values come from ArviZ: rank-normalised split R-hat
(``az.rhat(method="rank")``), bulk and tail ESS (``az.ess(method="bulk"|"tail")``) and the MCSE
of the mean (``az.mcse(method="mean")``). Nothing is hand-written.

Conventions:

- **Constant parameters are skipped.** A parameter whose draws are identical in every chain
  and draw (pruned coordinates fixed at 0, or a parameter never moved) has no defined R-hat
  (ArviZ returns NaN) and a meaningless ESS (ArviZ returns the number of draws). They, and every
  index in the mask (``pruned`` argument or the ``mask`` attribute of the InferenceData), are
  left out of the parameter-space summaries and reported as NaN in the per-parameter table;
  their count is ``n_excluded``.
- **A single chain** gives no between-chain information: R-hat is reported as NaN (ArviZ is not
  even called for it) and a note says so; ESS and MCSE are still computed from that chain.
- **Function space**: ``loglik`` and ``lp`` from ``sample_stats``, and the network's prediction
  at ``M`` fixed points for every draw: the regression mean (modelled scale), or for
  classification the softmax probability of a fixed class per point: the true class when
  ``y_points`` is given, else the class of highest pooled posterior-predictive probability.
  These quantities are invariant to hidden-unit permutation and sign flips, unlike the raw
  parameters.
- ``acceptance``: per-chain mean of ``sample_stats.accepted`` (or the ``acceptance_rate``
  attribute when that variable is missing).
- Summaries ignore NaN values; a summary over nothing is NaN (``null`` in JSON).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from scipy.fft import next_fast_len
from scipy.special import ndtri
from scipy.stats import rankdata

from bayesprune import networks
from bayesprune.arviz_setup import az
from bayesprune.networks import MLPSpec
from bayesprune.posterior import mask_of

RHAT_THRESHOLD = 1.01
SINGLE_CHAIN_NOTE = "single chain: split R-hat across chains is undefined and reported as NaN"


def _stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Rank-normalised split R-hat, bulk and tail ESS and the MCSE of the mean of every column
    of ``values`` ``(chain, draw, K)``: ArviZ's definitions (``az.rhat(method="rank")``,
    ``az.ess`` bulk/tail, ``az.mcse`` mean), computed for all ``K`` at once.

    ArviZ evaluates them one quantity at a time through xarray with a Python loop over lags;
    on the per-parameter tables (hundreds of parameters, a few thousand draws) that was a
    quarter of a pruning job. tests/test_diagnostics.py checks equality with ArviZ to 1e-10.
    """
    v = np.asarray(values, dtype=np.float64)
    n_chains, n_draws, k = v.shape
    nan = np.full(k, np.nan)
    out = {
        "rhat": nan.copy(),
        "ess_bulk": nan.copy(),
        "ess_tail": nan.copy(),
        "mcse_mean": nan.copy(),
    }
    if k == 0 or n_draws < 4:
        return out
    ok = np.all(np.isfinite(v), axis=(0, 1))
    if not ok.any():
        return out
    x = v[:, :, ok]
    half = n_draws // 2
    split = np.concatenate([x[:, :half], x[:, -half:]], axis=0)  # (2 chains, half, k)
    z = _z_scale(split)
    out["ess_bulk"][ok] = _ess(z)
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    if n_chains >= 2:
        out["rhat"][ok] = np.maximum(_rhat(z), _rhat(_z_scale(folded)))
    flat = x.reshape(-1, x.shape[2])
    tails = []
    for prob in (0.05, 0.95):
        q = np.quantile(flat, prob, axis=0)
        ind = (x <= q).astype(np.float64)
        tails.append(_ess(np.concatenate([ind[:, :half], ind[:, -half:]], axis=0)))
    out["ess_tail"][ok] = np.minimum(*tails)
    out["mcse_mean"][ok] = np.std(flat, axis=0, ddof=1) / np.sqrt(_ess(split))
    return out


def _z_scale(a: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks of ``a`` ``(chain, draw, k)``, over chains and draws, per
    column (Blom's offset 3/8, as ArviZ)."""
    flat = a.reshape(-1, a.shape[2])
    rank = rankdata(flat, method="average", axis=0)
    n = flat.shape[0]
    return ndtri((rank - 0.375) / (n - 0.75 + 1)).reshape(a.shape)


def _rhat(a: np.ndarray) -> np.ndarray:
    """Gelman-Rubin R-hat per column of ``a`` ``(chain, draw, k)``."""
    n = a.shape[1]
    between = n * np.var(a.mean(axis=1), axis=0, ddof=1)
    within = np.mean(np.var(a, axis=1, ddof=1), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # constant columns: nan, as ArviZ
        return np.sqrt((between / within + n - 1) / n)


def _ess(a: np.ndarray) -> np.ndarray:
    """Effective sample size per column of ``a`` ``(chain, draw, k)`` from the chains' FFT
    autocovariances and Geyer's initial monotone sequence (ArviZ's ``_ess``)."""
    n_chain, n_draw, k = a.shape
    centred = a - a.mean(axis=1, keepdims=True)
    m = next_fast_len(2 * n_draw)
    f = np.fft.rfft(centred, n=m, axis=1)
    f *= np.conjugate(f)
    acov = np.fft.irfft(f, n=m, axis=1)[:, :n_draw] / n_draw
    mean_acov = acov.mean(axis=0)  # (n_draw, k): the chains' mean at every lag
    mean_var = mean_acov[0] * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus = var_plus + np.var(a.mean(axis=1), axis=0, ddof=1)
    span = a.max(axis=(0, 1)) - a.min(axis=(0, 1))
    constant = span < np.finfo(float).resolution
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = _geyer(np.ascontiguousarray(mean_acov.T), mean_var, var_plus, n_chain * n_draw)
    return np.where(constant, float(a.shape[0] * a.shape[1]), ess)


@njit(error_model="numpy", cache=True)
def _geyer(acov: np.ndarray, mean_var: np.ndarray, var_plus: np.ndarray, total: int) -> np.ndarray:
    """ArviZ's Geyer initial positive and monotone sequences, one column at a time."""
    k, n_draw = acov.shape
    out = np.empty(k)
    rho = np.zeros(n_draw)
    for c in range(k):
        rho[:] = 0.0
        rho_even = 1.0
        rho[0] = rho_even
        rho_odd = 1.0 - (mean_var[c] - acov[c, 1]) / var_plus[c]
        rho[1] = rho_odd
        t = 1
        while t < n_draw - 3 and rho_even + rho_odd > 0.0:
            rho_even = 1.0 - (mean_var[c] - acov[c, t + 1]) / var_plus[c]
            rho_odd = 1.0 - (mean_var[c] - acov[c, t + 2]) / var_plus[c]
            if rho_even + rho_odd >= 0:
                rho[t + 1] = rho_even
                rho[t + 2] = rho_odd
            t += 2
        max_t = t - 2
        if rho_even > 0:
            rho[max_t + 1] = rho_even
        t = 1
        while t <= max_t - 2:
            if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
                rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0
                rho[t + 2] = rho[t + 1]
            t += 2
        tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1 : max_t + 2])
        tau = max(tau, 1.0 / np.log10(total))
        has_nan = False
        for i in range(n_draw):
            if math.isnan(rho[i]):
                has_nan = True
        out[c] = np.nan if has_nan else total / tau
    return out


def _nan(fn, x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(fn(x)) if x.size else float("nan")


def _summary(stats: dict[str, np.ndarray], threshold: float = RHAT_THRESHOLD) -> dict:
    rhat = np.asarray(stats["rhat"], dtype=np.float64)
    finite = rhat[np.isfinite(rhat)]
    return {
        "rhat_max": _nan(np.max, rhat),
        "rhat_median": _nan(np.median, rhat),
        "rhat_frac_gt_1_01": float(np.mean(finite > threshold)) if finite.size else float("nan"),
        "ess_bulk_min": _nan(np.min, stats["ess_bulk"]),
        "ess_bulk_median": _nan(np.median, stats["ess_bulk"]),
        "ess_tail_min": _nan(np.min, stats["ess_tail"]),
        "ess_tail_median": _nan(np.median, stats["ess_tail"]),
        "mcse_mean_max": _nan(np.max, stats["mcse_mean"]),
    }


def _scalar(values: np.ndarray) -> dict:
    """Diagnostics of one scalar quantity ``(chain, draw)``."""
    v = np.asarray(values, dtype=np.float64)
    if np.ptp(v) == 0 or not np.all(np.isfinite(v)):
        out = {"rhat": float("nan"), "ess_bulk": float("nan"), "ess_tail": float("nan")}
        return out | {"mcse_mean": float("nan"), "constant_or_nonfinite": True}
    s = _stats(v[:, :, None])
    return {k: float(s[k][0]) for k in ("rhat", "ess_bulk", "ess_tail", "mcse_mean")}


def _attr(idata: az.InferenceData, key: str) -> object:
    """An attribute from the posterior group, else from the InferenceData itself."""
    if key in idata.posterior.attrs:
        return idata.posterior.attrs[key]
    return (getattr(idata, "attrs", None) or {}).get(key)


def _mask(idata: az.InferenceData, pruned: np.ndarray | Sequence[int] | None) -> np.ndarray:
    """``pruned`` as indices, or (``None``) the mask stored in the posterior's attributes."""
    return mask_of(idata) if pruned is None else np.asarray(pruned, dtype=np.int64)


def _theta(idata: az.InferenceData) -> np.ndarray:
    theta = idata.posterior["theta"]
    extra = [d for d in theta.dims if d not in ("chain", "draw")]
    return np.asarray(theta.transpose("chain", "draw", *extra).values, dtype=np.float64)


def per_parameter_table(
    idata: az.InferenceData, pruned: np.ndarray | Sequence[int] | None = None
) -> pd.DataFrame:
    """One row per parameter (and ``tau2`` when present).

    Columns: ``param`` (flat name from the ``param`` coordinate), ``index`` (flat index; -1 for
    tau2), ``mean``, ``sd`` (ddof=1, pooled over chains), ``rhat``, ``ess_bulk``, ``ess_tail``,
    ``mcse_mean``, ``excluded`` (constant or in the mask: diagnostics NaN), ``pruned``.
    """
    theta = _theta(idata)
    n_params = theta.shape[-1]
    post = idata.posterior
    pdim = [d for d in post["theta"].dims if d not in ("chain", "draw")][0]
    names = [str(n) for n in post[pdim].values] if pdim in post.coords else None
    if names is None or len(names) != n_params:
        names = [f"theta[{i}]" for i in range(n_params)]
    mask = np.zeros(n_params, dtype=bool)
    mask[_mask(idata, pruned)] = True
    flat = theta.reshape(-1, n_params)
    constant = np.ptp(flat, axis=0) == 0
    excluded = constant | mask
    keep = np.flatnonzero(~excluded)
    s = _stats(theta[:, :, keep])
    cols = {}
    for key in ("rhat", "ess_bulk", "ess_tail", "mcse_mean"):
        col = np.full(n_params, np.nan)
        col[keep] = s[key]
        cols[key] = col
    frame = pd.DataFrame(
        {
            "param": names,
            "index": np.arange(n_params, dtype=np.int64),
            "mean": flat.mean(axis=0),
            "sd": flat.std(axis=0, ddof=1) if flat.shape[0] > 1 else np.full(n_params, np.nan),
            **cols,
            "excluded": excluded,
            "pruned": mask,
        }
    )
    if "tau2" in post:
        t = np.asarray(post["tau2"].transpose("chain", "draw").values, dtype=np.float64)
        st = _scalar(t)
        row = {
            "param": "tau2",
            "index": -1,
            "mean": float(t.mean()),
            "sd": float(t.std(ddof=1)) if t.size > 1 else float("nan"),
            **{k: st[k] for k in ("rhat", "ess_bulk", "ess_tail", "mcse_mean")},
            "excluded": bool(st.get("constant_or_nonfinite", False)),
            "pruned": False,
        }
        frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    return frame


def summarise_parameters(table: pd.DataFrame, threshold: float = RHAT_THRESHOLD) -> dict:
    """R-hat / ESS / MCSE summary of a per-parameter table's diagnosed network parameters."""
    ptab = table[table["index"] >= 0]
    diag = ptab[~ptab["excluded"].astype(bool)]
    return _summary(
        {k: diag[k].to_numpy() for k in ("rhat", "ess_bulk", "ess_tail", "mcse_mean")}, threshold
    )


def ess_by_chain(values: np.ndarray) -> np.ndarray:
    """Bulk ESS of each chain on its own: ``values`` ``(chains, draws, K)`` -> ``(chains, K)``."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full((v.shape[0], v.shape[2]), float(v.shape[1]))
    for c in range(v.shape[0]):
        varying = np.flatnonzero(np.ptp(v[c], axis=0) > 0)
        if varying.size and v.shape[1] >= 4:
            out[c, varying] = _stats(v[c : c + 1, :, varying])["ess_bulk"]
    return out


def mask_parameter_table(table: pd.DataFrame, pruned: np.ndarray | Sequence[int]) -> pd.DataFrame:
    """The per-parameter table of a masked posterior, from the unmasked posterior's table.

    Masking leaves every kept parameter's draws unchanged, so their R-hat, ESS and MCSE are
    those of the unmasked posterior; pruned parameters become the constant 0 (excluded, as
    :func:`per_parameter_table` treats constants). This avoids recomputing ArviZ's
    per-parameter ESS (the costly part) for every pruned stage.
    """
    out = table.copy()
    rows = out["index"].isin(np.asarray(pruned, dtype=np.int64)) & (out["index"] >= 0)
    out.loc[rows, ["mean", "sd"]] = 0.0
    out.loc[rows, ["rhat", "ess_bulk", "ess_tail", "mcse_mean"]] = np.nan
    out.loc[rows, ["excluded", "pruned"]] = True
    return out


def prediction_quantity(
    spec: MLPSpec,
    task: str,
    theta: np.ndarray,
    x_points: np.ndarray,
    y_points: np.ndarray | None,
) -> tuple[np.ndarray, str]:
    """Predictions ``(chain, draw, M)`` at the fixed points and the quantity's name."""
    n_chains, n_draws, n_params = theta.shape
    out = networks.forward_numpy(spec, theta.reshape(-1, n_params), x_points)  # (S, M, O)
    if task == "regression":
        return out[..., 0].reshape(n_chains, n_draws, -1), "mean"
    z = out - out.max(axis=-1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(axis=-1, keepdims=True)
    if y_points is not None:
        cls, name = np.asarray(y_points, dtype=np.int64), "prob_true_class"
    else:
        cls, name = np.argmax(probs.mean(axis=0), axis=-1), "prob_predictive_class"
    p = probs[:, np.arange(probs.shape[1]), cls]
    return p.reshape(n_chains, n_draws, -1), name


def diagnose(
    idata: az.InferenceData,
    spec: MLPSpec,
    X_points: np.ndarray,
    task: str,
    y_points: np.ndarray | None = None,
    pruned: np.ndarray | Sequence[int] | None = None,
    param_table: pd.DataFrame | None = None,
    rhat_threshold: float = RHAT_THRESHOLD,
) -> dict:
    """Diagnostics as in ``diagnostics.json``: ``parameter``, ``function``, ``acceptance``.

    ``X_points`` ``(M, D)``: fixed inputs for the function-space predictions; ``y_points``
    (classification, optional) selects the true class. ``pruned`` overrides the InferenceData's
    ``mask`` attribute; masked coordinates are excluded from parameter summaries and set to 0
    before predicting. ``param_table`` (from :func:`per_parameter_table`) avoids recomputing
    the per-parameter statistics.
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be regression or classification, got {task!r}")
    theta = _theta(idata)
    n_chains, n_draws, n_params = theta.shape
    if n_params != spec.n_params:
        raise ValueError(f"posterior has {n_params} parameters, network needs {spec.n_params}")
    mask = _mask(idata, pruned)
    table = param_table if param_table is not None else per_parameter_table(idata, mask)
    stats = idata.sample_stats if "sample_stats" in idata.groups() else None
    th = theta.copy()
    if mask.size:
        th[..., mask] = 0.0
    out = {
        "parameter": _parameter_space(table, mask, n_params, rhat_threshold),
        "function": _function_space(stats, spec, task, th, X_points, y_points, rhat_threshold),
        "acceptance": [float(a) for a in _acceptance(idata, stats)],
        "n_chains": int(n_chains),
        "n_draws": int(n_draws),
        "rhat_threshold": rhat_threshold,
        "notes": [SINGLE_CHAIN_NOTE] if n_chains < 2 else [],
    }
    if stats is not None and "diverging" in stats:
        out["divergences"] = (
            stats["diverging"].transpose("chain", "draw").values.sum(axis=1).astype(int).tolist()
        )
    return out


def _parameter_space(
    table: pd.DataFrame, mask: np.ndarray, n_params: int, rhat_threshold: float
) -> dict:
    """Summary of the per-parameter table, counts, and ``tau2``'s own diagnostics."""
    ptab = table[table["index"] >= 0]
    diag = ptab[~ptab["excluded"].astype(bool)]
    parameter = summarise_parameters(table, rhat_threshold)
    parameter |= {
        "n_params": int(n_params),
        "n_diagnosed": int(len(diag)),
        "n_excluded": int(n_params - len(diag)),
        "n_pruned": int(np.unique(mask).size),
    }
    tau_rows = table[table["param"] == "tau2"]
    if len(tau_rows):
        r = tau_rows.iloc[0]
        parameter["tau2"] = {k: float(r[k]) for k in ("rhat", "ess_bulk", "ess_tail", "mcse_mean")}
    return parameter


def _function_space(
    stats: Any,
    spec: MLPSpec,
    task: str,
    theta: np.ndarray,
    X_points: np.ndarray,
    y_points: np.ndarray | None,
    rhat_threshold: float,
) -> dict:
    """Diagnostics of ``loglik``, ``lp`` and the predictions at the fixed points of the
    (masked) draws ``theta``."""
    function: dict = {}
    for key in ("loglik", "lp"):
        if stats is not None and key in stats:
            function[key] = _scalar(stats[key].transpose("chain", "draw").values)
    x = np.asarray(X_points)
    if x.shape[0] > 0:
        pred, quantity = prediction_quantity(spec, task, theta, x, y_points)
        flat = pred.reshape(-1, pred.shape[-1])
        varying = np.flatnonzero(np.ptp(flat, axis=0) > 0)
        s = _stats(pred[:, :, varying])
        function["pred"] = _summary(s, rhat_threshold) | {
            "quantity": quantity,
            "n_points": int(pred.shape[-1]),
            "n_diagnosed": int(varying.size),
        }
    return function


def _acceptance(idata: az.InferenceData, stats: Any) -> list:
    """Exact per-chain acceptance rates of the sampler (every post-burn-in iteration) when
    recorded; the stored, thinned flags only as a fallback."""
    raw = _attr(idata, "acceptance_rate")
    if raw is not None:
        return json.loads(raw) if isinstance(raw, str) else np.atleast_1d(raw).tolist()
    if stats is not None and "accepted" in stats:
        acc = stats["accepted"].transpose("chain", "draw").values.astype(np.float64)
        return acc.mean(axis=1).tolist()
    return []
