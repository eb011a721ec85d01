"""Langevin-gradient / random-walk Metropolis-Hastings, batched over ``K`` chains.

Design (after BlackJAX's MALA): a *kernel* is a pure pair

* :func:`init` ``(position, logdensity_fn) -> State`` and
* :func:`step` ``(state, noise, logdensity_fn, params) -> (State, Info)``,

where the state carries the position, its log density, its gradient and its log likelihood,
so every step evaluates the target (value and gradient) exactly once, at the proposal. The
random numbers of a step are an explicit argument (:class:`StepNoise`), which keeps ``step``
deterministic and lets the runner draw them in blocks from one stream per chain.

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

:func:`run_chains` runs burn-in and thinning, draws the noise from one stream per chain
(``SeedSequence(seed, spawn_key=(k, 1))``: chain ``k``'s draws do not depend on ``K``),
reports progress, and checkpoints atomically so that a killed run resumes to exactly the
samples of an uninterrupted one.

Step-size adaptation (``run_chains(adapt=True)``, off by default): during burn-in only, each
chain tunes a global multiplicative factor ``f`` on its kernel (:meth:`KernelParams.scaled`:
every scale times ``f``, every drift step times ``f^2``, so ``h / s^2`` and hence the MALA
relation is kept; ``eta``'s random-walk scale is scaled too, so shrinking ``f`` always raises
the acceptance and the target is reachable) by dual averaging on ``log f`` (Nesterov 2009 as
in Hoffman & Gelman 2014, Alg. 5; :class:`DualAveraging`) driven by that chain's MH acceptance
probability ``min(1, ratio)``. One factor per chain keeps chain ``k`` independent of ``K``.
After burn-in each factor is frozen at its dual-averaging average, so every kept draw comes
from one fixed, valid MH kernel.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numba import njit

from bayesprune.adaptation import DualAveraging, MetricAdaptation, Welford, metric_kernel
from bayesprune.io import atomic_path

BLOCK_SIZE = 256  # steps of noise drawn at once per chain (part of the stream definition)


class LogDensityFn(Protocol):
    """A batched target: positions ``(K, d)`` -> object with ``logdensity`` (K,),
    ``grad`` (K, d) and optionally ``loglik`` (K,) (e.g. :class:`likelihoods.LogDensity`),
    or a tuple ``(logdensity, grad[, loglik])``."""

    def __call__(self, x: np.ndarray) -> Any: ...


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

    def to_dict(self) -> dict:
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
    posterior: Any,
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


def _call(logdensity_fn: LogDensityFn, x: np.ndarray) -> tuple[np.ndarray, ...]:
    out = logdensity_fn(x)
    if isinstance(out, tuple):
        lp, grad = out[0], out[1]
        loglik = out[2] if len(out) > 2 else lp
    else:
        lp, grad = out.logdensity, out.grad
        loglik = getattr(out, "loglik", lp)
    lp = np.asarray(lp, dtype=np.float64).reshape(x.shape[0])
    grad = np.asarray(grad, dtype=np.float64).reshape(x.shape)
    loglik = np.asarray(loglik, dtype=np.float64).reshape(x.shape[0])
    return lp, grad, loglik


def init(position: np.ndarray, logdensity_fn: LogDensityFn) -> State:
    """State at ``position`` (K, d). Raises if a starting point has a non-finite density."""
    x = np.array(position, dtype=np.float64, ndmin=2)
    lp, grad, loglik = _call(logdensity_fn, x)
    bad = ~(np.isfinite(lp) & np.all(np.isfinite(grad), axis=1))
    if bad.any():
        raise ValueError(
            f"non-finite log density or gradient at the start of chains {np.flatnonzero(bad)}"
        )
    return State(x, lp, grad, loglik)


def step(
    state: State, noise: StepNoise, logdensity_fn: LogDensityFn, params: KernelParams
) -> tuple[State, Info]:
    """One MH step of every chain (pure: same inputs, same outputs)."""
    x, g = state.position, state.grad
    lang = noise.u_kernel < params.langevin_prob  # (K,)
    scale, drift = np.atleast_2d(params.scale), np.atleast_2d(params.drift)
    xi, prop = _propose(x, g, noise.normal, lang, scale, drift)
    lp_new, g_new, ll_new = _call(logdensity_fn, prop)
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


# ---------------------------------------------------------------------------- streams
def chain_seed_sequence(seed: int, chain: int, purpose: int) -> np.random.SeedSequence:
    """Seed sequence of chain ``chain``: ``purpose`` 0 initialisation, 1 sampling.

    Equal to ``SeedSequence(seed).spawn(K)[chain].spawn(2)[purpose]`` for any ``K > chain``.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(int(chain), int(purpose)))


def _generators(seed: int, n_chains: int) -> list[np.random.Generator]:
    return [
        np.random.Generator(np.random.PCG64(chain_seed_sequence(seed, k, 1)))
        for k in range(n_chains)
    ]


def _draw_block(gens: list[np.random.Generator], dim: int, size: int) -> StepNoise:
    """``size`` steps of noise for every chain: arrays (K, size, ...), each chain's drawn into
    its own contiguous rows (step ``j`` of the block is ``[:, j]``)."""
    K = len(gens)
    normal = np.empty((K, size, dim))
    u_kernel = np.empty((K, size))
    u_accept = np.empty((K, size))
    for k, gen in enumerate(gens):
        gen.standard_normal(out=normal[k])
        gen.random(out=u_kernel[k])
        gen.random(out=u_accept[k])
    return StepNoise(normal, u_kernel, u_accept)


def initial_positions(
    posterior: Any,
    n_chains: int,
    seed: int,
    init: Literal["prior", "map"] = "prior",
    *,
    theta_map: np.ndarray | None = None,
    jitter: float = 0.01,
    prior_std: float = 1.0,
    tau2: float | None = None,
) -> np.ndarray:
    """Starting positions ``(K, dim)`` for an :class:`MLPPosterior`, chain ``k`` drawn from
    its own stream (``chain_seed_sequence(seed, k, 0)``).

    ``prior``: every parameter ~ N(0, prior_std^2) (the paper: N(0, 1)). ``map``:
    ``theta_map`` + N(0, jitter^2) per parameter. Pruned coordinates are set to 0. When
    ``eta`` is sampled it starts at ``log tau2`` if given, else at the log of the chain's own
    mean squared training residual (as the authors' code), floored at 1e-6.
    """
    P = posterior.n_params
    out = np.zeros((n_chains, posterior.dim))
    if init == "map":
        if theta_map is None:
            raise ValueError("init='map' needs theta_map")
        theta_map = np.asarray(theta_map, dtype=np.float64).reshape(P)
    elif init != "prior":
        raise ValueError(f"init must be prior or map, got {init!r}")
    for k in range(n_chains):
        gen = np.random.Generator(np.random.PCG64(chain_seed_sequence(seed, k, 0)))
        z = gen.standard_normal(P)
        out[k, :P] = prior_std * z if init == "prior" else theta_map + jitter * z
    if posterior.chain_mask is not None:
        out[:, :P][posterior.chain_mask] = 0.0
    elif len(posterior.mask):
        out[:, posterior.mask] = 0.0
    if posterior.eta_index is not None:
        if tau2 is None:
            t2 = np.maximum(posterior.residual_tau2(out[:, :P]), 1e-6)
        else:
            t2 = np.full(n_chains, float(tau2))
        out[:, posterior.eta_index] = np.log(t2)
    return out


# ---------------------------------------------------------------------------- adaptation
def accept_prob(info: Info) -> np.ndarray:
    """MH acceptance probability ``min(1, ratio)`` of each chain's step (0 where diverging)."""
    lar = np.nan_to_num(info.log_accept_ratio, nan=-np.inf)
    return np.exp(np.minimum(lar, 0.0))


# ---------------------------------------------------------------------------- runner
@dataclass(frozen=True)
class Progress:
    """Passed to the progress callback."""

    iteration: int  # iterations done (per chain)
    n_iter: int
    chain_iters_per_s: float  # K * iterations / s since this (re)start
    acceptance: np.ndarray  # (K,) acceptance rate so far (all iterations)
    n_diverging: int
    elapsed_s: float
    step_scale: np.ndarray | None = None  # (K,) current factor when adapting, else None
    n_burn: int = 0  # burn-in iterations (phase and ETA of the progress line)
    n_chains: int = 1


@dataclass
class ChainResult:
    """Post-burn-in, thinned draws of ``K`` chains (arrays ``(K, S, ...)``)."""

    position: np.ndarray  # (K, S, d)
    logdensity: np.ndarray  # (K, S)
    loglik: np.ndarray  # (K, S)
    accepted: np.ndarray  # (K, S) bool
    kernel: np.ndarray  # (K, S) int8
    diverging: np.ndarray  # (K, S) bool
    acceptance_rate: np.ndarray  # (K,) over all post-burn-in iterations
    acceptance_rate_burn_in: np.ndarray  # (K,)
    n_diverging: np.ndarray  # (K,) over all iterations
    n_iter: int
    burn_in: int
    thin: int
    seed: int
    final_state: State
    elapsed_s: float
    n_theta: int
    eta_index: int | None = None
    params: dict = field(default_factory=dict)  # the base (unadapted) kernel params
    step_scale: np.ndarray | None = None  # (K,) frozen adapted factor; None: no adaptation
    target_accept: float | None = None  # the adaptation's target (None: no adaptation)
    metric: np.ndarray | None = None  # (K, d) variances of the diagonal metric, or None

    @property
    def adapted_step_size(self) -> np.ndarray | None:
        """Per-chain theta proposal std used for the kept draws (``step_scale`` times the
        base theta scale), or None without adaptation."""
        if self.step_scale is None:
            return None
        base = np.asarray(self.params["scale"], dtype=np.float64)[..., : self.n_theta]
        if not base.size:
            return np.zeros_like(self.step_scale)
        if base.ndim == 2:  # per-chain kernels (a diagonal metric): each chain's largest
            return self.step_scale * base.max(axis=1)
        return self.step_scale * float(base.max())

    @property
    def adapted_noise_step(self) -> np.ndarray | None:
        """Per-chain ``eta`` proposal std used for the kept draws, or None."""
        if self.step_scale is None or self.eta_index is None:
            return None
        scale = np.asarray(self.params["scale"], dtype=np.float64)[..., self.eta_index]
        return self.step_scale * scale  # (K,) whether the kernel params are shared or per chain

    @property
    def theta(self) -> np.ndarray:
        """Network parameters ``(K, S, P)``."""
        return self.position[..., : self.n_theta]

    @property
    def tau2(self) -> np.ndarray | None:
        """``tau^2`` draws ``(K, S)`` when sampled, else None."""
        if self.eta_index is None:
            return None
        return np.exp(self.position[..., self.eta_index])

    @property
    def n_chains(self) -> int:
        return self.position.shape[0]

    @property
    def n_draws(self) -> int:
        return self.position.shape[1]


def burn_in_count(n_iter: int, burn_in: float | int) -> int:
    """Burn-in iterations: a fraction in [0, 1) of ``n_iter``, or an integer count >= 1."""
    if isinstance(burn_in, float) and burn_in < 1.0:
        if burn_in < 0:
            raise ValueError("burn_in must be >= 0")
        return int(math.floor(burn_in * n_iter))
    n = int(burn_in)
    if n != burn_in or not 0 <= n < n_iter:
        raise ValueError(f"burn_in must be a fraction in [0, 1) or an integer in [0, {n_iter})")
    return n


def logging_progress(
    logger: logging.Logger, level: int = logging.INFO
) -> Callable[[Progress], None]:
    """A progress callback that writes one line per report to ``logger``: phase, percent,
    chain-iterations/s, elapsed and ETA (:func:`bayesprune.progress.progress_line`), then
    acceptance, divergences and the adapted step factors."""
    from bayesprune.progress import progress_line

    def report(p: Progress) -> None:
        acc = ", ".join(f"{a:.3f}" for a in p.acceptance)
        scale = ""
        if p.step_scale is not None:
            scale = "  step scale [" + ", ".join(f"{f:.3g}" for f in p.step_scale) + "]"
        head = progress_line(
            p.iteration, p.n_iter, p.n_burn, p.chain_iters_per_s, p.n_chains, p.elapsed_s
        )
        logger.log(level, "%s  acceptance [%s]  diverging %d%s", head, acc, p.n_diverging, scale)

    return report


def _theta_step(params: KernelParams, logdensity_fn: LogDensityFn) -> float:
    """The largest network-parameter proposal std (the noise coordinate left out)."""
    n_theta = int(getattr(logdensity_fn, "n_params", params.dim))
    scale = params.scale[:n_theta]
    return float(scale.max()) if scale.size else 0.0


def _fingerprint(
    x0: np.ndarray,
    params: KernelParams,
    n_iter: int,
    n_burn: int,
    thin: int,
    seed: int,
    adaptation: DualAveraging | None = None,
    target_id: str = "",
    metric: str = "identity",
) -> str:
    h = hashlib.sha256()
    h.update(target_id.encode())
    h.update(np.ascontiguousarray(x0, dtype=np.float64).tobytes())
    h.update(params.scale.tobytes())
    h.update(params.drift.tobytes())
    h.update(
        json.dumps([params.langevin_prob, n_iter, n_burn, thin, int(seed), BLOCK_SIZE]).encode()
    )
    if adaptation is not None:  # absent without adaptation: older fingerprints stay valid
        h.update(json.dumps(["adapt", *adaptation.to_list()]).encode())
    if metric != "identity":
        h.update(json.dumps(["metric", metric]).encode())
    return h.hexdigest()


def run_chains(
    logdensity_fn: LogDensityFn,
    initial_position: np.ndarray,
    params: KernelParams,
    n_iter: int,
    *,
    burn_in: float | int = 0.5,
    thin: int = 1,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    checkpoint_every_s: float | None = 300.0,
    target_id: str = "",
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 10.0,
    logger: logging.Logger | None = None,
    adapt: bool = False,
    target_accept: float = 0.5,
    adaptation: DualAveraging | None = None,
    metric: Literal["identity", "diagonal"] = "identity",
) -> ChainResult:
    """Run ``K`` chains for ``n_iter`` iterations each and return the kept draws.

    ``initial_position`` (K, d); ``burn_in`` a fraction of ``n_iter`` or a count; iteration
    ``i`` (0-based) is kept when ``i >= burn_in`` and ``(i - burn_in) % thin == 0``.
    The target's ``n_params`` / ``eta_index`` attributes (when present) define
    ``ChainResult.theta`` / ``tau2``.

    Checkpointing: with ``checkpoint`` set, the full sampler state (chain state, per-chain RNG
    states, draws so far, counters) is written atomically every ``checkpoint_every``
    iterations and/or ``checkpoint_every_s`` seconds. If the file exists when the run starts
    and belongs to the same run (same start, kernel, lengths, seed and ``target_id``: a digest
    of the target density that the caller supplies, e.g. of its data, prior and mask), the
    run resumes from
    it and produces exactly the samples of an uninterrupted run; a checkpoint of a different
    run is ignored (and overwritten). The file is left in place at the end (the caller
    removes it once its outputs are safe).

    Progress: ``progress`` (a callback, see :func:`logging_progress`) and/or ``logger`` get a
    report every ``progress_every_s`` seconds (0: every iteration) and at the end.

    Adaptation: with ``adapt`` each chain tunes a factor on its whole kernel
    (:meth:`KernelParams.scaled`) during burn-in by dual averaging towards ``target_accept``
    (``adaptation`` overrides the other constants of :class:`DualAveraging`), then freezes
    it; ``ChainResult.step_scale`` holds the frozen factors. Needs a burn-in of at least 1
    iteration. The adaptation state is checkpointed, so resuming stays exact.

    Metric: ``metric="diagonal"`` (needs ``adapt``) also preconditions each chain's kernel
    during burn-in: per-coordinate scales proportional to the chain's posterior standard
    deviations, estimated in doubling windows (:class:`bayesprune.adaptation.MetricAdaptation`),
    the factor's dual averaging restarting after each window; frozen with the factor after
    burn-in. ``ChainResult.params`` then holds the final preconditioned per-chain kernel
    (before the factor) and ``ChainResult.metric`` the variances it came from.
    """
    x0 = np.array(initial_position, dtype=np.float64, ndmin=2)
    pruned = getattr(logdensity_fn, "mask", None)
    chain_mask = getattr(logdensity_fn, "chain_mask", None)
    if chain_mask is not None:  # pruned coordinates are exactly 0
        x0[:, : chain_mask.shape[1]][chain_mask] = 0.0
    elif pruned is not None and len(pruned):
        x0[:, np.asarray(pruned, dtype=np.int64)] = 0.0
    K, d = x0.shape
    if d != params.dim:
        raise ValueError(f"positions have {d} coordinates, kernel params {params.dim}")
    if n_iter < 1 or thin < 1:
        raise ValueError("n_iter and thin must be >= 1")
    if params.scale.ndim == 2 and params.scale.shape[0] != K:
        raise ValueError(f"per-chain kernel params have {params.scale.shape[0]} rows, {K} chains")
    n_burn = burn_in_count(n_iter, burn_in)
    n_keep = (n_iter - n_burn + thin - 1) // thin
    da: DualAveraging | None = None
    if adapt:
        if n_burn < 1:
            raise ValueError("step-size adaptation needs a burn-in of at least 1 iteration")
        da = adaptation or DualAveraging(target_accept=float(target_accept))
    if metric not in ("identity", "diagonal"):
        raise ValueError(f"metric must be identity or diagonal, got {metric!r}")
    windows: list[int] = []
    if metric == "diagonal":
        if da is None:
            raise ValueError("metric='diagonal' adapts during burn-in: it needs adapt=True")
        windows = MetricAdaptation(n_burn).window_ends()
        if not windows:
            raise ValueError(
                f"a burn-in of {n_burn} iterations is too short to estimate a diagonal metric"
            )
        collect_from = MetricAdaptation(n_burn).window_start(windows[0])
    fp = _fingerprint(x0, params, n_iter, n_burn, thin, seed, da, target_id, metric)
    if logger is not None and progress is None:
        progress = logging_progress(logger)

    draws_x = np.empty((K, n_keep, d))
    draws_lp = np.empty((K, n_keep))
    draws_ll = np.empty((K, n_keep))
    draws_acc = np.zeros((K, n_keep), dtype=bool)
    draws_ker = np.zeros((K, n_keep), dtype=np.int8)
    draws_div = np.zeros((K, n_keep), dtype=bool)
    acc_post = np.zeros(K, dtype=np.int64)
    acc_burn = np.zeros(K, dtype=np.int64)
    n_div = np.zeros(K, dtype=np.int64)
    da_x = np.zeros(K)  # log factor in use during burn-in (log f_0 = 0)
    da_h = np.zeros(K)  # dual-averaging H_bar
    da_xbar = np.zeros(K)  # averaged log factor (frozen after burn-in)
    da_t0 = 0  # iteration at which the dual averaging last (re)started
    base_scale = np.array(np.broadcast_to(params.scale, (K, d)))  # the kernel the factor scales
    base_drift = np.array(np.broadcast_to(params.drift, (K, d)))
    welford = Welford.init(K, d) if windows else None
    variance: np.ndarray | None = None
    gens = _generators(seed, K)
    it = 0
    elapsed_before = 0.0
    block_start = 0
    block_states = [g.bit_generator.state for g in gens]
    state: State | None = None

    ck = Path(checkpoint) if checkpoint is not None else None
    if ck is not None and ck.exists():
        try:
            with np.load(ck, allow_pickle=False) as z:
                ok = str(z["fingerprint"]) == fp
                if ok:
                    it = int(z["iteration"])
                    kept = int(z["n_kept"])
                    state = State(z["position"], z["logdensity"], z["grad"], z["loglik"])
                    for name, arr in (
                        ("draws_x", draws_x),
                        ("draws_lp", draws_lp),
                        ("draws_ll", draws_ll),
                        ("draws_acc", draws_acc),
                        ("draws_ker", draws_ker),
                        ("draws_div", draws_div),
                    ):
                        arr[:, :kept] = z[name]
                    acc_post[:] = z["acc_post"]
                    acc_burn[:] = z["acc_burn"]
                    n_div[:] = z["n_div"]
                    if da is not None:
                        da_x[:], da_h[:], da_xbar[:] = z["da_x"], z["da_h"], z["da_xbar"]
                    if windows:
                        da_t0 = int(z["da_t0"])
                        base_scale[:], base_drift[:] = z["base_scale"], z["base_drift"]
                        welford = Welford(int(z["wf_count"]), z["wf_mean"], z["wf_m2"])
                        variance = z["variance"] if z["variance"].size else None
                    block_start = int(z["block_start"])
                    block_states = json.loads(str(z["rng_states"]))
                    elapsed_before = float(z["elapsed_s"])
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
            # Unreadable (truncated, corrupt): start over; the next checkpoint replaces it.
            ok, unreadable = False, True
            state = None
            it, block_start, elapsed_before = 0, 0, 0.0
            block_states = [g.bit_generator.state for g in gens]
            acc_post[:], acc_burn[:], n_div[:] = 0, 0, 0
            da_x[:], da_h[:], da_xbar[:] = 0.0, 0.0, 0.0
            da_t0 = 0
            base_scale[:], base_drift[:] = (
                np.broadcast_to(params.scale, (K, d)),
                np.broadcast_to(params.drift, (K, d)),
            )
            welford = Welford.init(K, d) if windows else None
            variance = None
            if logger is not None:
                logger.warning(
                    "ignoring unreadable checkpoint %s (%s: %s); starting over",
                    ck,
                    type(err).__name__,
                    err,
                )
        else:
            unreadable = False
        if logger is not None and not unreadable:
            if ok:
                logger.info("resuming from checkpoint %s at iteration %d", ck, it)
            else:
                logger.warning("checkpoint %s belongs to another run; starting over", ck)
    if logger is not None:
        from bayesprune.progress import start_line

        logger.info(
            start_line(
                {
                    "chains": K,
                    "dim": d,
                    "iterations": n_iter,
                    "burn_in": n_burn,
                    "thin": thin,
                    "kept_per_chain": n_keep,
                    "seed": seed,
                    "step_size": f"{_theta_step(params, logdensity_fn):.4g}",
                    "langevin_prob": params.langevin_prob,
                    "adapt": bool(adapt),
                    "target_accept": target_accept if adapt else "-",
                    "resume_from": it,
                    "checkpoint": ck if ck is not None else "none",
                }
            )
        )
    if state is None:
        state = init(x0, logdensity_fn)
    for g, s in zip(gens, block_states, strict=True):
        g.bit_generator.state = s
    block = _draw_block(gens, d, BLOCK_SIZE)

    def kept_count(done: int) -> int:
        return 0 if done <= n_burn else (done - n_burn + thin - 1) // thin

    def save_checkpoint(done: int) -> None:
        assert ck is not None and state is not None
        kept = kept_count(done)
        with atomic_path(ck) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    fingerprint=np.array(fp),
                    iteration=np.array(done),
                    n_kept=np.array(kept),
                    position=state.position,
                    logdensity=state.logdensity,
                    grad=state.grad,
                    loglik=state.loglik,
                    draws_x=draws_x[:, :kept],
                    draws_lp=draws_lp[:, :kept],
                    draws_ll=draws_ll[:, :kept],
                    draws_acc=draws_acc[:, :kept],
                    draws_ker=draws_ker[:, :kept],
                    draws_div=draws_div[:, :kept],
                    acc_post=acc_post,
                    acc_burn=acc_burn,
                    n_div=n_div,
                    block_start=np.array(block_start),
                    rng_states=np.array(json.dumps(block_states)),
                    elapsed_s=np.array(elapsed_before + time.perf_counter() - t_start),
                    da_x=da_x,
                    da_h=da_h,
                    da_xbar=da_xbar,
                    **(
                        {
                            "da_t0": np.array(da_t0),
                            "base_scale": base_scale,
                            "base_drift": base_drift,
                            "wf_count": np.array(welford.count),
                            "wf_mean": welford.mean,
                            "wf_m2": welford.m2,
                            "variance": np.zeros(0) if variance is None else variance,
                        }
                        if welford is not None
                        else {}
                    ),
                )

    t_start = time.perf_counter()
    it_start = it
    last_report = t_start
    last_ck_time = t_start

    def report(done: int) -> None:
        now = time.perf_counter()
        rate = K * (done - it_start) / max(now - t_start, 1e-9)
        acc = (acc_post + acc_burn) / max(done, 1)
        assert progress is not None
        elapsed = elapsed_before + now - t_start
        scale = None if da is None else np.exp(da_x if done < n_burn else da_xbar)
        progress(Progress(done, n_iter, rate, acc, int(n_div.sum()), elapsed, scale, n_burn, K))

    def base_params() -> KernelParams:
        if not windows:
            return params
        return KernelParams(base_scale, base_drift, params.langevin_prob)

    def current_params() -> KernelParams:
        if da is None:
            return params
        return base_params().scaled(np.exp(da_x if it < n_burn else da_xbar))

    cur = current_params()

    while it < n_iter:
        j = it - block_start
        if j >= BLOCK_SIZE:
            block_start = it
            block_states = [g.bit_generator.state for g in gens]
            block = _draw_block(gens, d, BLOCK_SIZE)
            j = 0
        noise = StepNoise(block.normal[:, j], block.u_kernel[:, j], block.u_accept[:, j])
        state, info = step(state, noise, logdensity_fn, cur)
        n_div += info.diverging
        if da is not None and it < n_burn:
            da_x, da_h, da_xbar = da.update(it + 1 - da_t0, accept_prob(info), da_h, da_xbar)
            if welford is not None:
                done = it + 1
                if collect_from < done <= windows[-1]:
                    welford = welford.update(state.position)
                if done in windows:
                    variance = welford.variance()
                    in_use = base_params().scaled(np.exp(da_x)).scale
                    base_scale, base_drift = metric_kernel(
                        params.scale, params.drift, in_use, variance
                    )
                    welford = Welford.init(K, d)
                    da_t0, da_x, da_h, da_xbar = done, np.zeros(K), np.zeros(K), np.zeros(K)
            if it + 1 == n_burn:
                da_x = da_xbar.copy()  # frozen from here on
            cur = base_params().scaled(np.exp(da_x))
        if it >= n_burn:
            acc_post += info.accepted
            r = it - n_burn
            if r % thin == 0:
                s = r // thin
                draws_x[:, s] = state.position
                draws_lp[:, s] = state.logdensity
                draws_ll[:, s] = state.loglik
                draws_acc[:, s] = info.accepted
                draws_ker[:, s] = info.kernel
                draws_div[:, s] = info.diverging
        else:
            acc_burn += info.accepted
        it += 1
        if ck is not None and it < n_iter:
            now = time.perf_counter()
            due = checkpoint_every is not None and it % checkpoint_every == 0
            due = due or (
                checkpoint_every_s is not None and now - last_ck_time >= checkpoint_every_s
            )
            if due:
                save_checkpoint(it)
                last_ck_time = time.perf_counter()
        if progress is not None and time.perf_counter() - last_report >= progress_every_s:
            report(it)
            last_report = time.perf_counter()
    if progress is not None:
        report(it)

    n_post = n_iter - n_burn
    return ChainResult(
        position=draws_x,
        logdensity=draws_lp,
        loglik=draws_ll,
        accepted=draws_acc,
        kernel=draws_ker,
        diverging=draws_div,
        acceptance_rate=acc_post / max(n_post, 1),
        acceptance_rate_burn_in=acc_burn / max(n_burn, 1),
        n_diverging=n_div,
        n_iter=n_iter,
        burn_in=n_burn,
        thin=thin,
        seed=int(seed),
        final_state=state,
        elapsed_s=elapsed_before + time.perf_counter() - t_start,
        n_theta=int(getattr(logdensity_fn, "n_params", d)),
        eta_index=getattr(logdensity_fn, "eta_index", None),
        params=base_params().to_dict(),
        step_scale=None if da is None else np.exp(da_xbar),
        target_accept=None if da is None else da.target_accept,
        metric=variance,
    )
