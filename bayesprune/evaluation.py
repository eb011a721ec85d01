"""Metrics of method-A networks: point estimate, posterior predictive and network size.

Two evaluations of every (pruned or unpruned) posterior, named in ``metrics.json``:

- ``point``: the network at the (masked) posterior mean ``theta_bar`` (what the paper reports).
  For regression the noise variance is the posterior mean of ``tau2``, so the predictive
  distribution of the point estimate is ``N(f(x; theta_bar), mean(tau2))``.
- ``predictive``: the posterior predictive over the (masked) draws. Regression: the equally
  weighted Gaussian mixture ``(1/S) sum_s N(f(x; theta_s), tau2_s)`` (noise included);
  the reported RMSE is of its mean ``(1/S) sum_s f(x; theta_s)``. Classification: the mean of
  the draws' softmax probabilities.

"Masked" means the pruned coordinates are set to exactly 0 in every draw (and in the mean).

Regression definitions (per test point, then averaged over points):

- ``rmse_*``: on the modelled (scaled) target; ``rmse_*_original`` on the original scale,
  i.e. multiplied by the target scaler's ``scale`` (``original = scaled * scale + center``;
  equal to the modelled RMSE when no scaler was fitted, ``kind == "none"``).
- ``coverage95_test`` / ``width95_test``: fraction of test targets inside the central 95%
  predictive interval ``[q_0.025, q_0.975]`` and its mean width (modelled scale). Mixture
  quantiles are roots of the exact mixture CDF (safeguarded Newton, tolerance 1e-10 sd).
- ``nll_test``: ``-log p(y | x)`` of the predictive density (mixture via log-sum-exp).
- ``crps_test``: continuous ranked probability score. Closed form for a Gaussian; for the
  mixture the exact Gaussian-mixture formula
  ``sum_s w_s A(y - mu_s, s2_s) - 1/2 sum_{s,t} w_s w_t A(mu_s - mu_t, s2_s + s2_t)`` with
  ``A(m, v) = E|N(m, v)|``; the first term is exact, the double sum is exact when
  ``S <= crps_pairs`` and otherwise an unbiased estimate from a seeded subsample of draws.

Without ``tau2`` draws (regression) the noise-dependent metrics are NaN.

Classification: ``acc_*``; ``nll_test`` = mean ``-log p(y_true)`` (probabilities clipped at
1e-300); ``brier_test`` = mean over points of ``sum_c (p_c - 1[c = y])^2``; ``ece_test`` = expected
calibration error with 15 equal-width confidence bins ``(b/15, (b+1)/15]`` over the max-class
probability, ``sum_b (n_b / N) |acc_b - conf_b|``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from bayesprune import networks
from bayesprune.mixtures import (
    gaussian_crps,
    gaussian_nll,
    mixture_crps,
    mixture_nll,
    mixture_quantiles,
)
from bayesprune.networks import MLPSpec

TASKS = ("regression", "classification")
_Z975 = 1.959963984540054


# ----------------------------------------------------------------------------- helpers
def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def _prepare(
    theta_draws: np.ndarray, pruned: np.ndarray | Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Masked draws ``(S, P)`` and their mean."""
    th = np.array(theta_draws, dtype=np.float64, copy=True)
    if th.ndim == 1:
        th = th[None, :]
    th = th.reshape(-1, th.shape[-1])
    if pruned is not None and len(pruned):
        th[:, np.asarray(pruned, dtype=np.int64)] = 0.0
    return th, th.mean(axis=0)


def _tau2(tau2_draws: np.ndarray | None, n_draws: int) -> np.ndarray | None:
    if tau2_draws is None:
        return None
    t = np.asarray(tau2_draws, dtype=np.float64).reshape(-1)
    if t.size != n_draws:
        raise ValueError(f"{t.size} tau2 draws for {n_draws} theta draws")
    return t


def target_scale(meta: dict) -> float:
    """Factor from the modelled to the original target scale (1 without a fitted scaler)."""
    scaler = meta.get("target_scaler") or {}
    if scaler.get("kind", "none") == "none":
        return 1.0
    return float(np.atleast_1d(np.asarray(scaler.get("scale", [1.0]), dtype=np.float64))[0])


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _mean_output(
    spec: MLPSpec, task: str, theta: np.ndarray, x: np.ndarray, chunk: int = 256
) -> np.ndarray:
    """Posterior mean over draws of the regression mean ``(N,)`` or class probabilities."""
    total = None
    for start in range(0, theta.shape[0], chunk):
        out = networks.forward_numpy(spec, theta[start : start + chunk], x, chunk=chunk)
        val = out[..., 0] if task == "regression" else _softmax(out)
        part = val.sum(axis=0)
        total = part if total is None else total + part
    return total / theta.shape[0]


def _point_output(spec: MLPSpec, task: str, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = networks.forward_numpy(spec, theta, x)
    return out[:, 0] if task == "regression" else _softmax(out)


def _draw_means(spec: MLPSpec, theta: np.ndarray, x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Regression means of every draw, ``(S, N)``."""
    return networks.forward_numpy(spec, theta, x, chunk=chunk)[..., 0]


# ----------------------------------------------------------------------------- regression
def rmse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(y)) ** 2)))


# ----------------------------------------------------------------------------- classification
def accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(probs, axis=-1) == np.asarray(y)))


def class_nll(probs: np.ndarray, y: np.ndarray) -> float:
    p = probs[np.arange(len(y)), np.asarray(y, dtype=np.int64)]
    return float(-np.mean(np.log(np.clip(p, 1e-300, None))))


def brier(probs: np.ndarray, y: np.ndarray) -> float:
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), np.asarray(y, dtype=np.int64)] = 1.0
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=-1)))


def ece(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error over equal-width confidence bins ``(b/n, (b+1)/n]``."""
    conf = probs.max(axis=-1)
    correct = (np.argmax(probs, axis=-1) == np.asarray(y)).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            total += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(total)


# ----------------------------------------------------------------------------- public API
def size_metrics(spec: MLPSpec, pruned: np.ndarray | Sequence[int] | None = None) -> dict:
    """``n_params``, ``n_kept``, ``bytes_dense``, ``bytes_sparse`` (best sparse format)."""
    n_params = spec.n_params
    n_pruned = 0 if pruned is None else int(np.unique(np.asarray(pruned, dtype=np.int64)).size)
    n_kept = n_params - n_pruned
    b = networks.sparse_bytes(n_kept, n_params)
    return {
        "n_params": n_params,
        "n_kept": n_kept,
        "bytes_dense": b["dense"],
        "bytes_sparse": b["best"],
        "bytes_coo": b["coo"],
        "bytes_bitmask": b["bitmask"],
    }


def assess_posterior(
    spec: MLPSpec,
    task: str,
    theta_draws: np.ndarray,
    tau2_draws: np.ndarray | None,
    split: dict[str, np.ndarray],
    meta: dict,
    pruned: np.ndarray | Sequence[int] | None = None,
    seed: int = 0,
    crps_pairs: int = 200,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics and test-set arrays of a posterior, from one pass over the draws.

    Returns ``(metrics, arrays)``. ``metrics`` is ``{"point": {...}, "predictive": {...},
    "size": {...}}`` as in ``metrics.json``. ``theta_draws``: post-burn-in draws ``(S, P)``
    (or ``(chains, draws, P)``, pooled); ``tau2_draws``: ``(S,)`` for regression, else None.
    ``pruned`` (indices) are set to 0 in every draw. ``seed`` only drives the subsample of the
    mixture CRPS when ``S > crps_pairs``.

    ``arrays`` (modelled scale, ready for ``save_npz``) are for plots. Regression: ``y_true``,
    ``point_mean`` (network at the masked posterior mean), ``pred_mean`` (posterior predictive
    mean), ``pred_lower95`` / ``pred_upper95`` (2.5% / 97.5% quantiles of the predictive
    mixture, noise included; NaN without ``tau2``), ``mean_lower95`` / ``mean_upper95`` (2.5% /
    97.5% percentiles of the draws' network outputs, i.e. without noise). Classification:
    ``y_true``, ``point_probs`` and ``pred_probs`` ``(N, C)``.
    """
    _check_task(task)
    theta, theta_bar = _prepare(theta_draws, pruned)
    size = size_metrics(spec, pruned)
    if task == "classification":
        point, pred, arrays = _assess_classification(spec, theta, theta_bar, split)
    else:
        tau2 = _tau2(tau2_draws, theta.shape[0])
        point, pred, arrays = _assess_regression(
            spec, theta, theta_bar, tau2, split, target_scale(meta), seed, crps_pairs
        )
    return {"point": point, "predictive": pred, "size": size}, arrays


def _assess_classification(
    spec: MLPSpec, theta: np.ndarray, theta_bar: np.ndarray, split: dict[str, np.ndarray]
) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """Point and predictive metrics and the test arrays of a classifier's draws."""
    task = "classification"
    x_tr, x_te = np.asarray(split["X_train"]), np.asarray(split["X_test"])
    y_tr = np.asarray(split["y_train"]).astype(np.int64)
    y_te = np.asarray(split["y_test"]).astype(np.int64)
    point: dict = {}
    pred: dict = {}
    p_tr, p_te = (
        _point_output(spec, task, theta_bar, x_tr),
        _point_output(spec, task, theta_bar, x_te),
    )
    q_tr, q_te = _mean_output(spec, task, theta, x_tr), _mean_output(spec, task, theta, x_te)
    for out, ptr, pte in ((point, p_tr, p_te), (pred, q_tr, q_te)):
        out.update(
            acc_train=accuracy(ptr, y_tr),
            acc_test=accuracy(pte, y_te),
            nll_test=class_nll(pte, y_te),
            brier_test=brier(pte, y_te),
            ece_test=ece(pte, y_te),
        )
    return point, pred, {"y_true": y_te, "point_probs": p_te, "pred_probs": q_te}


_NO_NOISE = dict.fromkeys(("coverage95_test", "width95_test", "nll_test", "crps_test"), math.nan)


def _rmse_pair(
    pred_tr: np.ndarray, y_tr: np.ndarray, pred_te: np.ndarray, y_te: np.ndarray, scale: float
) -> dict:
    """RMSE on the training and test set, on the modelled and the original scale."""
    out = {"rmse_train": rmse(pred_tr, y_tr), "rmse_test": rmse(pred_te, y_te)}
    out["rmse_train_original"] = out["rmse_train"] * scale
    out["rmse_test_original"] = out["rmse_test"] * scale
    return out


def _assess_regression(
    spec: MLPSpec,
    theta: np.ndarray,
    theta_bar: np.ndarray,
    tau2: np.ndarray | None,
    split: dict[str, np.ndarray],
    scale: float,
    seed: int,
    crps_pairs: int,
) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """Point and predictive metrics and the test arrays of a regression network's draws."""
    task = "regression"
    x_tr, x_te = np.asarray(split["X_train"]), np.asarray(split["X_test"])
    y_tr = np.asarray(split["y_train"]).astype(np.float64)
    y_te = np.asarray(split["y_test"]).astype(np.float64)
    # point estimate
    mu_tr = _point_output(spec, task, theta_bar, x_tr)
    mu_te = _point_output(spec, task, theta_bar, x_te)
    point = _rmse_pair(mu_tr, y_tr, mu_te, y_te, scale)
    if tau2 is None:
        point.update(_NO_NOISE)
    else:
        t_bar = float(tau2.mean())
        half = _Z975 * np.sqrt(t_bar)
        point.update(
            coverage95_test=float(np.mean(np.abs(y_te - mu_te) <= half)),
            width95_test=float(2 * half),
            nll_test=gaussian_nll(y_te, mu_te, t_bar),
            crps_test=gaussian_crps(y_te, mu_te, t_bar),
        )
    # posterior predictive
    m_tr = _mean_output(spec, task, theta, x_tr)
    mus = _draw_means(spec, theta, x_te)
    pred_mean = mus.mean(axis=0)
    pred = _rmse_pair(m_tr, y_tr, pred_mean, y_te, scale)
    if tau2 is None:
        lo = hi = np.full(y_te.shape, np.nan)
        pred.update(_NO_NOISE)
    else:
        lo, hi = mixture_quantiles(mus, tau2)
        pred.update(
            coverage95_test=float(np.mean((y_te >= lo) & (y_te <= hi))),
            width95_test=float(np.mean(hi - lo)),
            nll_test=mixture_nll(y_te, mus, tau2),
            crps_test=mixture_crps(y_te, mus, tau2, seed=seed, crps_pairs=crps_pairs),
        )
    m_lo, m_hi = np.percentile(mus, [2.5, 97.5], axis=0)
    arrays = {
        "y_true": y_te,
        "point_mean": mu_te,
        "pred_mean": pred_mean,
        "pred_lower95": lo,
        "pred_upper95": hi,
        "mean_lower95": m_lo,
        "mean_upper95": m_hi,
    }
    return point, pred, arrays


def point_metrics(
    spec: MLPSpec, task: str, theta: np.ndarray, split: dict[str, np.ndarray], meta: dict
) -> dict:
    """Train and test error of one network ``theta`` ``(P,)``: ``rmse_*`` (also on the
    original scale) for regression, ``acc_*`` for classification."""
    _check_task(task)
    out = {}
    for part in ("train", "test"):
        x, y = np.asarray(split[f"X_{part}"]), np.asarray(split[f"y_{part}"])
        pred = _point_output(spec, task, np.asarray(theta, dtype=np.float64), x)
        if task == "classification":
            out[f"acc_{part}"] = accuracy(pred, y.astype(np.int64))
        else:
            out[f"rmse_{part}"] = rmse(pred, y.astype(np.float64))
            out[f"rmse_{part}_original"] = out[f"rmse_{part}"] * target_scale(meta)
    return out


EVALUATION_SPLITS = ("heldout", "reshuffled")


def evaluation_split(
    split: dict[str, np.ndarray], how: str = "heldout", seed: int = 0
) -> dict[str, np.ndarray]:
    """The rows pruned and resampled networks are evaluated on.

    ``heldout``: ``split`` itself. ``reshuffled`` (bug-compatible, the authors'
    post-pruning analysis): every row of ``split`` reshuffled (seeded) and cut again with the
    same number of training rows, so about a training fraction of the new test rows were
    training rows of the chain.
    """
    if how not in EVALUATION_SPLITS:
        raise ValueError(f"evaluation split must be one of {EVALUATION_SPLITS}, got {how!r}")
    if how == "heldout":
        return split
    X = np.concatenate([np.asarray(split["X_train"]), np.asarray(split["X_test"])])
    y = np.concatenate([np.asarray(split["y_train"]), np.asarray(split["y_test"])])
    perm = np.random.default_rng(seed).permutation(len(y))
    n_train = len(split["y_train"])
    tr, te = perm[:n_train], perm[n_train:]
    return {"X_train": X[tr], "y_train": y[tr], "X_test": X[te], "y_test": y[te]}


def headline_errors(
    spec: MLPSpec,
    task: str,
    theta_draws: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    pruned: np.ndarray | Sequence[int] | None = None,
) -> dict[str, float]:
    """Test error of the (masked) posterior mean network (``point``) and of the posterior
    predictive mean (``predictive``): RMSE on the modelled scale, or accuracy. The cheap
    subset of :func:`assess_posterior` that the ablation tables need."""
    _check_task(task)
    theta, theta_bar = _prepare(theta_draws, pruned)
    x, yy = np.asarray(X), np.asarray(y)
    point = _point_output(spec, task, theta_bar, x)
    pred = _mean_output(spec, task, theta, x)
    if task == "regression":
        yy = yy.astype(np.float64)
        return {"point": rmse(point, yy), "predictive": rmse(pred, yy)}
    yy = yy.astype(np.int64)
    return {"point": accuracy(point, yy), "predictive": accuracy(pred, yy)}
