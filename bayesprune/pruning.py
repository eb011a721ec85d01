"""Pruning scores (STN, SPN, MAG, RND), masks and pruning curves for method A.

Scores are computed per entry of the flat parameter vector (layout in :mod:`networks`) from
the post-burn-in posterior draws pooled over chains, shape ``(S, P)``. A *mask* is an explicit,
sorted ``int64`` array of pruned indices (never "coordinates that happen to be 0").

Definitions (``m_i`` = posterior mean, ``s_i`` = posterior standard deviation with ``ddof=1``):

- ``stn`` (signal-to-noise): ``|m_i| / s_i``. A constant parameter (``s_i = 0``) scores
  ``+inf`` if ``m_i != 0`` (a certain non-zero value: pruned last) and ``0`` if ``m_i == 0``
  (already exactly zero, e.g. pruned earlier: pruned first).
- ``spn`` (signal-plus-noise): ``|m_i| + s_i``.
- ``mag`` (magnitude, extra baseline): ``|m_i|``.
- ``rnd``: i.i.d. ``Uniform(0, 1)`` scores from ``numpy.random.default_rng(seed)``, so pruning
  the lowest ``k`` scores removes a uniformly random ``k``-subset, reproducible from ``seed``.

In every case the lowest scores are pruned first; ties are broken by the lower flat index
first (stable sort), so masks are deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayesprune import networks
from bayesprune.evaluation import target_scale
from bayesprune.networks import MLPSpec

CRITERIA = ("stn", "spn", "rnd", "mag")
SCOPES = ("global", "layer")


def _criterion(criterion: str) -> str:
    c = str(criterion).lower()
    if c not in CRITERIA:
        raise ValueError(f"unknown pruning criterion {criterion!r}; expected one of {CRITERIA}")
    return c


def _pooled(draws: np.ndarray) -> np.ndarray:
    """``(S, P)`` float64 view of draws given as ``(S, P)`` or ``(chains, draws, P)``."""
    d = np.asarray(draws, dtype=np.float64)
    if d.ndim == 1:
        d = d[None, :]
    if d.ndim > 2:
        d = d.reshape(-1, d.shape[-1])
    return d


def scores(draws: np.ndarray, criterion: str, seed: int | None = None) -> np.ndarray:
    """Pruning score of every parameter, shape ``(P,)``; lower scores are pruned first.

    ``draws``: post-burn-in posterior draws ``(S, P)`` pooled over chains (``(chains, draws,
    P)`` is pooled here). ``stn`` and ``spn`` need ``S >= 2``. ``rnd`` needs an integer
    ``seed`` (it ignores the draws' values and only uses ``P``).
    """
    c = _criterion(criterion)
    d = _pooled(draws)
    n_draws, n_params = d.shape
    if c == "rnd":
        if seed is None:
            raise ValueError("the rnd criterion needs an explicit seed to be reproducible")
        return np.random.default_rng(seed).random(n_params)
    mean = d.mean(axis=0)
    if c == "mag":
        return np.abs(mean)
    if n_draws < 2:
        raise ValueError(f"criterion {c!r} needs at least 2 draws, got {n_draws}")
    std = d.std(axis=0, ddof=1)
    if c == "spn":
        return np.abs(mean) + std
    # stn
    out = np.zeros(n_params, dtype=np.float64)
    pos = std > 0
    out[pos] = np.abs(mean[pos]) / std[pos]
    out[~pos & (mean != 0)] = np.inf
    return out


RND_MODES = ("uniform", "first_k")


def criterion_scores(
    draws: np.ndarray,
    criterion: str,
    spec: MLPSpec,
    seed: int | None = None,
    rnd: str = "uniform",
) -> np.ndarray:
    """:func:`scores`, except ``rnd`` with ``rnd="first_k"`` (bug-compatible): the first
    ``k`` entries of the authors' flat layout go first
    (:func:`bayesprune.authors.rnd_first_k_scores`, ties none)."""
    if rnd not in RND_MODES:
        raise ValueError(f"rnd must be one of {RND_MODES}, got {rnd!r}")
    if _criterion(criterion) == "rnd" and rnd == "first_k":
        from bayesprune.authors import rnd_first_k_scores

        return rnd_first_k_scores(spec)
    return scores(draws, criterion, seed=seed)


def prune_count(rate: float, n_eligible: int) -> int:
    """``ceil(rate * n_eligible)``, robust to floating-point noise (0.7 * 10 gives 7, not 8)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"pruning rate must lie in [0, 1], got {rate}")
    return min(int(n_eligible), math.ceil(round(rate * n_eligible, 9)))


def eligible(spec: MLPSpec, include_biases: bool = True) -> np.ndarray:
    """Boolean ``(P,)``: which parameters may be pruned (biases only if ``include_biases``)."""
    return np.ones(spec.n_params, dtype=bool) if include_biases else ~spec.param_is_bias()


def prune_order(scores: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``candidates`` (default: all) sorted by score, lowest first, ties by index."""
    s = np.asarray(scores, dtype=np.float64)
    if np.isnan(s).any():
        raise ValueError("pruning scores contain NaN")
    idx = np.arange(s.size, dtype=np.int64) if candidates is None else np.asarray(candidates)
    idx = np.sort(idx.astype(np.int64))
    return idx[np.argsort(s[idx], kind="stable")]


def make_mask(
    scores: np.ndarray,
    rate: float,
    spec: MLPSpec,
    scope: str = "global",
    include_biases: bool = True,
) -> np.ndarray:
    """Sorted ``int64`` indices of the parameters to prune.

    ``scope='global'``: the ``ceil(rate * n_eligible)`` lowest-scoring eligible parameters of
    the whole network. ``scope='layer'``: in every layer separately, the
    ``ceil(rate * n_eligible_in_layer)`` lowest-scoring eligible parameters of that layer.
    Biases are eligible only if ``include_biases``; excluded biases are never pruned.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (spec.n_params,):
        raise ValueError(f"scores have shape {s.shape}, network needs ({spec.n_params},)")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    elig = eligible(spec, include_biases)
    if scope == "global":
        groups = [np.flatnonzero(elig)]
    else:
        layer = spec.param_layer()
        groups = [np.flatnonzero(elig & (layer == ell)) for ell in range(spec.n_layers)]
    pruned = [prune_order(s, g)[: prune_count(rate, g.size)] for g in groups]
    return np.sort(np.concatenate(pruned).astype(np.int64))


def masked_mean(draws: np.ndarray, pruned: np.ndarray | Sequence[int] | None) -> np.ndarray:
    """Posterior mean ``(P,)`` over the draws, with the pruned entries set to exactly 0."""
    mean = _pooled(draws).mean(axis=0)
    if pruned is not None and len(pruned):
        mean[np.asarray(pruned, dtype=np.int64)] = 0.0
    return mean


def _curve_errors(
    task: str, out: np.ndarray, y: np.ndarray, tau2: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-vector test error and mean NLL for outputs ``(K, N, O)``."""
    if task == "regression":
        mu = out[..., 0]
        resid = mu - y[None, :]
        err = np.sqrt(np.mean(resid**2, axis=1))
        if tau2 is None:
            nll = np.full(err.shape, np.nan)
        else:
            nll = 0.5 * np.log(2 * np.pi * tau2) + 0.5 * np.mean(resid**2, axis=1) / tau2
        return err, nll
    logits = out - out.max(axis=-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    yi = y.astype(np.int64)
    err = np.mean(np.argmax(logp, axis=-1) != yi[None, :], axis=1)
    nll = -np.mean(np.take_along_axis(logp, yi[None, :, None], axis=-1)[..., 0], axis=1)
    return err, nll


def pruning_curve(
    spec: MLPSpec,
    task: str,
    draws: np.ndarray,
    split: dict[str, np.ndarray],
    meta: dict,
    criterion: str,
    seed: int | None,
    max_rate: float,
    n_points: int | None = None,
    scope: str = "global",
    include_biases: bool = True,
    tau2_draws: np.ndarray | None = None,
    chunk: int = 256,
) -> pd.DataFrame:
    """Test error of the masked posterior mean as parameters are removed one at a time.

    For ``scope='global'`` step ``k`` prunes the first ``k`` parameters of the criterion's
    order (nested masks), ``k = 0 .. ceil(max_rate * n_eligible)``; with ``n_points`` the steps
    are subsampled to about ``n_points`` evenly spaced values (0 and the last always kept).
    For ``scope='layer'`` step ``k`` uses :func:`make_mask` at rate ``k / n_eligible``.

    Columns: ``criterion``, ``scope``, ``step``, ``n_pruned``, ``frac_pruned`` (of all ``P``
    parameters), ``metric`` (``rmse`` on the modelled scale, or ``error_rate`` =
    1 - accuracy), ``test_error``, ``test_nll`` (mean per test point; for regression it uses
    the posterior-mean ``tau2`` and is NaN when ``tau2_draws`` is not given), and for
    regression ``test_rmse_original`` (RMSE on the original target scale).
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be regression or classification, got {task!r}")
    c = _criterion(criterion)
    d = _pooled(draws)
    s = scores(d, c, seed=seed)
    steps, masks = _curve_masks(spec, s, max_rate, n_points, scope, include_biases)
    tau2 = None if tau2_draws is None else float(np.mean(tau2_draws))
    errs, nlls = _masked_mean_errors(spec, task, d.mean(axis=0), masks, split, tau2, chunk)
    n_pruned = np.array([len(m) for m in masks], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "criterion": c,
            "scope": scope,
            "step": steps.astype(np.int64),
            "n_pruned": n_pruned,
            "frac_pruned": n_pruned / spec.n_params,
            "metric": "rmse" if task == "regression" else "error_rate",
            "test_error": errs,
            "test_nll": nlls,
        }
    )
    if task == "regression":
        frame["test_rmse_original"] = frame["test_error"] * target_scale(meta)
    return frame


def _curve_masks(
    spec: MLPSpec,
    s: np.ndarray,
    max_rate: float,
    n_points: int | None,
    scope: str,
    include_biases: bool,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The curve's steps (parameters pruned) and the mask of each, from the scores ``s``."""
    elig = eligible(spec, include_biases)
    n_elig = int(elig.sum())
    k_max = prune_count(max_rate, n_elig)
    steps = np.arange(k_max + 1)
    if n_points is not None and n_points < steps.size:
        steps = np.unique(np.round(np.linspace(0, k_max, max(int(n_points), 2))).astype(np.int64))
    if scope == "global":
        order = prune_order(s, np.flatnonzero(elig))
        return steps, [order[:k] for k in steps]
    return steps, [make_mask(s, k / n_elig, spec, "layer", include_biases) for k in steps]


def _masked_mean_errors(
    spec: MLPSpec,
    task: str,
    mean: np.ndarray,
    masks: list[np.ndarray],
    split: dict[str, np.ndarray],
    tau2: float | None,
    chunk: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Test error and NLL of the mean network under every mask, ``chunk`` masks at a time."""
    x = np.asarray(split["X_test"])
    y = np.asarray(split["y_test"])
    errs, nlls = [], []
    for start in range(0, len(masks), chunk):
        block = masks[start : start + chunk]
        thetas = np.repeat(mean[None, :], len(block), axis=0)
        for row, m in enumerate(block):
            thetas[row, m] = 0.0
        out = networks.forward_numpy(spec, thetas, x, chunk=chunk)
        e, n = _curve_errors(task, out, y, tau2)
        errs.append(e)
        nlls.append(n)
    return np.concatenate(errs), np.concatenate(nlls)


def mask_to_dict(
    pruned: np.ndarray | Sequence[int],
    spec: MLPSpec,
    rate: float | None = None,
    criterion: str | None = None,
    scope: str | None = None,
    include_biases: bool | None = None,
    seed: int | None = None,
) -> dict:
    """A JSON-able description of a mask with its layout (indices and parameter names)."""
    idx = np.sort(np.asarray(pruned, dtype=np.int64))
    names = spec.param_names()
    return {
        "pruned": idx.tolist(),
        "names": [names[i] for i in idx],
        "n_params": spec.n_params,
        "n_pruned": int(idx.size),
        "n_kept": int(spec.n_params - idx.size),
        "rate": rate,
        "criterion": criterion,
        "scope": scope,
        "include_biases": include_biases,
        "seed": seed,
        "network": spec.to_dict(),
    }


def mask_from_dict(d: dict, spec: MLPSpec | None = None) -> np.ndarray:
    """Sorted ``int64`` pruned indices from :func:`mask_to_dict` output.

    With ``spec`` the stored layout is checked (``P`` and the names of pruned entries).
    """
    idx = np.sort(np.asarray(d["pruned"], dtype=np.int64))
    if spec is not None:
        if int(d["n_params"]) != spec.n_params:
            raise ValueError(f"mask is for {d['n_params']} parameters, network has {spec.n_params}")
        names = spec.param_names()
        if "names" in d and [names[i] for i in idx] != list(d["names"]):
            raise ValueError("mask parameter names do not match the network layout")
    return idx
