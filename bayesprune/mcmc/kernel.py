"""The Langevin-gradient / random-walk Metropolis-Hastings kernel, batched over ``K`` chains.

After BlackJAX's MALA: a pure pair :func:`init` ``(position, model) -> State`` and
:func:`step` ``(state, noise, model, params) -> (State, Info)``. The state carries the
position, its log density, its gradient and its log likelihood, so every step evaluates the
target (value and gradient) exactly once, at the proposal. The random numbers of a step are an
explicit argument (:class:`StepNoise`), which keeps ``step`` deterministic and lets the runner
(:mod:`bayesprune.mcmc.runner`) draw them in blocks from one stream per chain.

One position vector per chain holds every sampled coordinate (network parameters and, for
regression, ``eta = log tau^2``). :class:`KernelParams` gives each coordinate its own proposal
scale and Langevin drift step:

* network parameters: scale ``s`` (``step_size``), drift ``h`` (``langevin_step``,
  default ``s^2 / 2``, the textbook MALA choice);
* ``eta``: scale ``s_eta`` (``noise_step``), drift 0 (a random walk, as in the paper);
* pruned coordinates: scale 0 and drift 0, so they never move (they stay exactly 0).

Each step, independently per chain, picks the Langevin kernel with probability
``langevin_prob`` and the random walk otherwise, and proposes

    x' = x + drift * kernel * grad log pi(x) + scale * xi,   xi ~ N(0, I).

The Langevin kernel's MH ratio includes the exact reverse-proposal density
``q(x | x')`` with the gradient at ``x'``; the random walk is symmetric. Each kernel is a valid
MH kernel for the target, so the mixture leaves it invariant. A proposal whose log density,
gradient or MH ratio is not finite is rejected and flagged ``diverging``; it never raises.

:class:`KernelParams` is also the kernel as the runner drives it
(:class:`bayesprune.mcmc.runner.Kernel`): ``init``/``step`` bound to these parameters, ``scaled`` for the step factor
of the adaptation (:mod:`bayesprune.mcmc.adaptation`) and ``to_dict`` for the record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from bayesprune.likelihoods import MLPPosterior
    from bayesprune.mcmc.model import Model


@dataclass(frozen=True)
class State:
    """Current position of every chain with its log density, gradient and log likelihood."""

    position: np.ndarray  # (K, d)
    logdensity: np.ndarray  # (K,)
    grad: np.ndarray  # (K, d)
    loglik: np.ndarray  # (K,)


@dataclass(frozen=True)
class Info:
    """What happened in one step, per chain."""

    accepted: np.ndarray  # (K,) bool
    kernel: np.ndarray  # (K,) int8: 0 random walk, 1 Langevin
    diverging: np.ndarray  # (K,) bool: non-finite proposal (rejected)
    log_accept_ratio: np.ndarray  # (K,) float (nan where diverging)
    proposal: np.ndarray  # (K, d)


@dataclass(frozen=True)
class StepNoise:
    """Random numbers consumed by one step: ``normal`` (K, d), uniforms ``u_kernel`` and
    ``u_accept`` (K,) in [0, 1)."""

    normal: np.ndarray
    u_kernel: np.ndarray
    u_accept: np.ndarray


@dataclass(frozen=True)
class KernelParams:
    """Per-coordinate proposal scale and Langevin drift step, and the Langevin probability.

    ``scale`` and ``drift`` are ``(d,)`` (every chain alike) or ``(K, d)`` (one row per chain,
    see :meth:`scaled`); :func:`step` broadcasts either against the ``(K, d)`` positions.
    """

    scale: np.ndarray  # (d,) or (K, d)
    drift: np.ndarray  # (d,) or (K, d)
    langevin_prob: float = 0.5
    inv_scale: np.ndarray = field(init=False, repr=False)
    moving: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        scale = np.asarray(self.scale, dtype=np.float64)
        drift = np.asarray(self.drift, dtype=np.float64)
        if scale.ndim not in (1, 2) or drift.shape != scale.shape:
            raise ValueError("scale and drift must be 1-D (or per-chain 2-D) of equal shape")
        if np.any(scale < 0) or np.any(drift < 0) or not np.all(np.isfinite(scale + drift)):
            raise ValueError("scale and drift must be finite and >= 0")
        if np.any((scale == 0) & (drift != 0)):
            raise ValueError("a coordinate with scale 0 must have drift 0")
        if not 0.0 <= self.langevin_prob <= 1.0:
            raise ValueError("langevin_prob must lie in [0, 1]")
        moving = scale > 0
        inv = np.zeros_like(scale)
        inv[moving] = 1.0 / scale[moving]
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "drift", drift)
        object.__setattr__(self, "inv_scale", inv)
        object.__setattr__(self, "moving", moving.astype(np.float64))

    @property
    def dim(self) -> int:
        return self.scale.shape[-1]

    def scaled(self, factor: np.ndarray | float) -> KernelParams:
        """Every moving coordinate's proposal scale times ``factor`` and its drift step times
        ``factor^2`` (so ``h / s^2`` is kept: textbook MALA ``h = s^2 / 2`` stays MALA).
        ``factor`` a scalar, or ``(K,)`` for one factor per chain (then rows ``(K, d)``)."""
        f = np.asarray(factor, dtype=np.float64)
        if f.ndim == 1:
            if self.scale.ndim == 2 and self.scale.shape[0] != f.shape[0]:
                raise ValueError(f"{f.shape[0]} factors for {self.scale.shape[0]} chain rows")
            f = f[:, None]
        elif f.ndim != 0:
            raise ValueError("factor must be a scalar or a (K,) array")
        return KernelParams(self.scale * f, self.drift * f**2, self.langevin_prob)

    def init(self, position: np.ndarray, model: Model) -> State:
        """:func:`init` at ``position`` (K, d) with the model's pruned coordinates set to 0."""
        x = np.array(position, dtype=np.float64, ndmin=2)
        if x.shape[1] != self.dim:
            raise ValueError(f"positions have {x.shape[1]} coordinates, kernel params {self.dim}")
        if self.scale.ndim == 2 and self.scale.shape[0] != x.shape[0]:
            raise ValueError(
                f"per-chain kernel params have {self.scale.shape[0]} rows, {x.shape[0]} chains"
            )
        model.zero_pruned(x[:, : model.n_params])
        return init(x, model)

    def step(self, state: State, noise: StepNoise, model: Model) -> tuple[State, Info]:
        """:func:`step` with these parameters."""
        return step(state, noise, model, self)

    def to_dict(self, model: Model | None = None) -> dict:
        """The parameters as JSON-able lists (``ChainResult.params``)."""
        return {
            "scale": self.scale.tolist(),
            "drift": self.drift.tolist(),
            "langevin_prob": self.langevin_prob,
        }


def kernel_params(
    dim: int,
    step_size: float,
    *,
    langevin_step: float | None = None,
    langevin_prob: float = 0.5,
    noise_step: float | None = None,
    eta_index: int | None = None,
    mask: np.ndarray | list[int] | None = None,
) -> KernelParams:
    """Kernel parameters for a position of ``dim`` coordinates.

    ``step_size`` is the proposal std ``s`` of the network parameters; ``langevin_step`` the
    drift step ``h`` (default ``s^2 / 2``, textbook MALA); ``noise_step`` the random-walk std
    of ``eta`` at ``eta_index`` (drift 0); ``mask`` the pruned coordinates (scale and drift
    0): indices shared by every chain, or a boolean ``(K, P)`` array (True where pruned), one
    row per chain, which makes the parameters per chain ``(K, dim)``.
    """
    if step_size <= 0:
        raise ValueError("step_size must be > 0")
    h = 0.5 * step_size**2 if langevin_step is None else float(langevin_step)
    scale = np.full(dim, float(step_size))
    drift = np.full(dim, h)
    if eta_index is not None:
        if noise_step is None or noise_step < 0:
            raise ValueError("sampling eta needs noise_step >= 0")
        scale[eta_index] = float(noise_step)
        drift[eta_index] = 0.0
    m = None if mask is None else np.asarray(mask)
    if m is not None and m.ndim == 2:
        fixed = np.zeros((m.shape[0], dim), dtype=bool)
        fixed[:, : m.shape[1]] = m
        scale = np.where(fixed, 0.0, scale[None, :])
        drift = np.where(fixed, 0.0, drift[None, :])
    elif m is not None and m.size:
        idx = m.astype(np.int64)
        scale[idx] = 0.0
        drift[idx] = 0.0
    return KernelParams(scale, drift, float(langevin_prob))


def kernel_params_for(
    posterior: MLPPosterior,
    step_size: float,
    noise_step: float = 0.2,
    *,
    langevin_step: float | None = None,
    langevin_prob: float = 0.5,
) -> KernelParams:
    """:func:`kernel_params` for an :class:`bayesprune.likelihoods.MLPPosterior` (its ``dim``,
    ``eta_index`` and ``mask``)."""
    return kernel_params(
        posterior.dim,
        step_size,
        langevin_step=langevin_step,
        langevin_prob=langevin_prob,
        noise_step=noise_step if posterior.eta_index is not None else None,
        eta_index=posterior.eta_index,
        mask=posterior.mask if posterior.chain_mask is None else posterior.chain_mask,
    )


def _evaluate(model: Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(log density (K,), gradient (K, d), log likelihood (K,))`` of ``model`` at ``x``."""
    out = model(x)
    lp = np.asarray(out.logdensity, dtype=np.float64).reshape(x.shape[0])
    grad = np.asarray(out.grad, dtype=np.float64).reshape(x.shape)
    loglik = np.asarray(out.loglik, dtype=np.float64).reshape(x.shape[0])
    return lp, grad, loglik


def init(position: np.ndarray, model: Model) -> State:
    """State at ``position`` (K, d). Raises if a starting point has a non-finite density."""
    x = np.array(position, dtype=np.float64, ndmin=2)
    lp, grad, loglik = _evaluate(model, x)
    bad = ~(np.isfinite(lp) & np.all(np.isfinite(grad), axis=1))
    if bad.any():
        raise ValueError(
            f"non-finite log density or gradient at the start of chains {np.flatnonzero(bad)}"
        )
    return State(x, lp, grad, loglik)


def step(state: State, noise: StepNoise, model: Model, params: KernelParams) -> tuple[State, Info]:
    """One MH step of every chain (pure: same inputs, same outputs)."""
    x, g = state.position, state.grad
    lang = noise.u_kernel < params.langevin_prob  # (K,)
    scale, drift = np.atleast_2d(params.scale), np.atleast_2d(params.drift)
    xi, prop = _propose(x, g, noise.normal, lang, scale, drift)
    lp_new, g_new, ll_new = _evaluate(model, prop)
    out = _accept(
        x, g, state.logdensity, state.loglik, prop, xi, lang, drift,
        np.atleast_2d(params.inv_scale), lp_new, g_new, ll_new, noise.u_accept,
    )  # fmt: skip
    position, logdensity, grad, loglik, accepted, diverging, log_ratio = out
    new_state = State(position, logdensity, grad, loglik)
    return new_state, Info(accepted, lang.astype(np.int8), diverging, log_ratio, prop)


@njit(error_model="numpy", cache=True)
def _propose(
    x: np.ndarray,
    g: np.ndarray,
    normal: np.ndarray,
    lang: np.ndarray,
    scale: np.ndarray,
    drift: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The noise ``xi`` (0 where a coordinate does not move) and the proposal
    ``x + [lang] drift * g + scale * xi``; ``scale``/``drift`` have 1 or K rows."""
    K, d = x.shape
    xi = np.empty((K, d))
    prop = np.empty((K, d))
    for k in range(K):
        r = min(k, scale.shape[0] - 1)
        on = 1.0 if lang[k] else 0.0
        for i in range(d):
            z = normal[k, i] if scale[r, i] > 0.0 else 0.0
            xi[k, i] = z
            prop[k, i] = x[k, i] + on * drift[r, i] * g[k, i] + scale[r, i] * z
    return xi, prop


@njit(error_model="numpy", cache=True)
def _accept(
    x: np.ndarray,
    g: np.ndarray,
    lp: np.ndarray,
    ll: np.ndarray,
    prop: np.ndarray,
    xi: np.ndarray,
    lang: np.ndarray,
    drift: np.ndarray,
    inv_scale: np.ndarray,
    lp_new: np.ndarray,
    g_new: np.ndarray,
    ll_new: np.ndarray,
    u_accept: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MH accept/reject of every chain: the Langevin kernel's ratio includes
    ``log q(x | x') - log q(x' | x)`` with the gradient at ``x'``; the random walk's is 0.
    A non-finite ratio, gradient or log likelihood is rejected and flagged diverging (its
    ratio reported as nan)."""
    K, d = x.shape
    position = np.empty((K, d))
    grad = np.empty((K, d))
    logdensity = np.empty(K)
    loglik = np.empty(K)
    accepted = np.zeros(K, dtype=np.bool_)
    diverging = np.zeros(K, dtype=np.bool_)
    log_ratio = np.empty(K)
    for k in range(K):
        r = min(k, drift.shape[0] - 1)
        log_q = 0.0
        finite_g = True
        if lang[k]:
            fwd = 0.0
            rev = 0.0
            for i in range(d):
                b = (x[k, i] - prop[k, i] - drift[r, i] * g_new[k, i]) * inv_scale[r, i]
                fwd += xi[k, i] * xi[k, i]
                rev += b * b
            log_q = 0.5 * (fwd - rev)
        for i in range(d):
            if not math.isfinite(g_new[k, i]):
                finite_g = False
        ratio = lp_new[k] - lp[k] + log_q
        ok = math.isfinite(ratio) and finite_g and math.isfinite(ll_new[k])
        diverging[k] = not ok
        log_ratio[k] = ratio if ok else np.nan
        acc = ok and math.log(u_accept[k]) < ratio
        accepted[k] = acc
        src_x, src_g = (prop, g_new) if acc else (x, g)
        for i in range(d):
            position[k, i] = src_x[k, i]
            grad[k, i] = src_g[k, i]
        logdensity[k] = lp_new[k] if acc else lp[k]
        loglik[k] = ll_new[k] if acc else ll[k]
    return position, logdensity, grad, loglik, accepted, diverging, log_ratio
