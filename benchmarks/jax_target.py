"""The log density of :class:`bayesprune.likelihoods.MLPPosterior` written in JAX, for the peers.

Same position layout (``theta`` in the order of :class:`bayesprune.networks.MLPSpec`, then
``eta = log tau^2`` for regression with sampled noise), same prior (``N(0, sigma2)`` on every
weight and bias with its normalising constant; ``InverseGamma(nu1, nu2)`` on ``tau^2`` with the
Jacobian of ``eta``), same likelihood (Gaussian, or categorical on ``log_softmax``), summed
over the training rows. :func:`check_agreement` asserts that value and gradient agree with
``MLPPosterior``'s at random points. Importing this module needs numpy only; jax is imported
by the functions that use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bayesprune.likelihoods import MLPPosterior
from bayesprune.networks import MLPSpec


def jax_available() -> bool:
    """Whether jax and blackjax import (the peer venv, ``benchmarks/requirements-peer.txt``)."""
    try:
        import blackjax  # noqa: F401
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def set_jax_precision(dtype: Any) -> None:
    """Switch jax's 64-bit mode on for float64 work and off for float32.

    BlackJAX's MALA mixes float64 noise into float32 positions when 64-bit mode is on (its
    ``lax.cond`` then fails on mismatched types), so each dtype runs in its own mode.
    """
    import jax

    jax.config.update("jax_enable_x64", np.dtype(dtype) == np.float64)


def make_logdensity(
    spec: MLPSpec,
    X: np.ndarray,
    y: np.ndarray,
    task: str,
    prior: dict[str, float],
    dtype: Any = np.float64,
) -> Callable:
    """``logdensity(x)`` of one position ``x`` (length ``P`` or ``P + 1``), a jax function.

    Call :func:`set_jax_precision` with the same ``dtype`` first. The data are cast to
    ``dtype`` as :class:`MLPPosterior` casts them.
    """
    import jax
    import jax.numpy as jnp

    dt = np.dtype(dtype)
    Xj = jnp.asarray(np.asarray(X, dtype=np.float64).astype(dt))
    n = int(Xj.shape[0])
    sigma2 = float(prior.get("sigma2", 25.0))
    nu1, nu2 = float(prior.get("nu1", 2.0)), float(prior.get("nu2", 0.1))
    P = spec.n_params
    prior_const = -0.5 * P * math.log(2 * math.pi * sigma2)
    ig_const = nu1 * math.log(nu2) - math.lgamma(nu1) if nu1 > 0 and nu2 > 0 else 0.0
    log2pi = math.log(2 * math.pi)
    blocks = spec.blocks
    layers = [(blocks[2 * i], blocks[2 * i + 1]) for i in range(spec.n_layers)]

    def act(name: str, a: Any) -> Any:
        if name == "sigmoid":
            return 1.0 / (1.0 + jnp.exp(-a))  # as MLPPosterior's _sigmoid
        if name == "tanh":
            return jnp.tanh(a)
        if name == "relu":
            return jnp.maximum(a, 0.0)
        return a

    def forward(theta: Any) -> Any:
        h = Xj
        for layer, (wb, bb) in enumerate(layers):
            w = theta[wb.offset : wb.offset + wb.size].reshape(wb.shape)
            b = theta[bb.offset : bb.offset + bb.size]
            h = h @ w.T + b
            if layer < spec.n_layers - 1:
                h = act(spec.hidden_activation, h)
        return act(spec.output_activation, h)

    if task == "regression":
        yj = jnp.asarray(np.asarray(y, dtype=np.float64).astype(dt).reshape(-1))

        def logdensity(x: Any) -> Any:
            theta, eta = x[:P], x[P]
            res = yj - forward(theta)[:, 0]
            inv_tau2 = jnp.exp(-eta)
            loglik = -0.5 * n * (log2pi + eta) - 0.5 * jnp.sum(res * res) * inv_tau2
            log_prior = prior_const - 0.5 * jnp.sum(theta * theta) / sigma2
            return loglik + log_prior + ig_const - nu1 * eta - nu2 * inv_tau2

    elif task == "classification":
        labels = jnp.asarray(np.asarray(y, dtype=np.int64).reshape(-1, 1).astype(np.int32))

        def logdensity(x: Any) -> Any:
            theta = x[:P]
            logp = jax.nn.log_softmax(forward(theta), axis=-1)
            loglik = jnp.sum(jnp.take_along_axis(logp, labels, axis=1))
            return loglik + prior_const - 0.5 * jnp.sum(theta * theta) / sigma2

    else:
        raise ValueError(f"task must be regression or classification, got {task!r}")
    return logdensity


def check_agreement(
    post: MLPPosterior, logdensity: Callable, points: np.ndarray, rtol: float = 1e-12
) -> tuple[float, float]:
    """Assert that ``logdensity`` (jax, float64) equals ``post`` at ``points`` (K, dim).

    Relative errors: ``|lp_jax - lp| / max(|lp|, 1)`` per point and
    ``max|g_jax - g| / max|g|`` per point; returns the largest of each and raises
    ``AssertionError`` when either exceeds ``rtol``.
    """
    import jax

    points = np.asarray(points, dtype=np.float64)
    ours = post(points)
    lp_j, g_j = jax.jit(jax.vmap(jax.value_and_grad(logdensity)))(points)
    lp_j, g_j = np.asarray(lp_j, dtype=np.float64), np.asarray(g_j, dtype=np.float64)
    err_lp = np.abs(lp_j - ours.logdensity) / np.maximum(np.abs(ours.logdensity), 1.0)
    err_g = np.abs(g_j - ours.grad).max(axis=1) / np.abs(ours.grad).max(axis=1)
    worst = float(err_lp.max()), float(err_g.max())
    if not (worst[0] <= rtol and worst[1] <= rtol):
        raise AssertionError(
            f"the jax log density differs from MLPPosterior's: relative error {worst[0]:.3g} "
            f"(value), {worst[1]:.3g} (gradient) > {rtol:g}"
        )
    return worst
