"""What a run of ``K`` chains keeps: the trace it fills (:class:`Trace`), the result it returns
(:class:`ChainResult`) and the progress it reports (:class:`Progress`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayesprune.mcmc.kernel import Info

#: the trace's per-draw arrays (``ChainResult`` fields of the same names)
DRAW_FIELDS = ("position", "logdensity", "loglik", "accepted", "kernel", "diverging")
#: its per-chain counters
COUNTERS = ("accepted_post", "accepted_burn", "n_diverging")


@dataclass(frozen=True)
class Schedule:
    """``n_iter`` iterations: the first ``n_burn`` discarded (and adapted on), then every
    ``thin``-th kept (iteration ``i`` kept when ``i >= n_burn`` and ``(i - n_burn) % thin == 0``)."""

    n_iter: int
    n_burn: int
    thin: int

    @staticmethod
    def of(n_iter: int, burn_in: float | int, thin: int) -> Schedule:
        if n_iter < 1 or thin < 1:
            raise ValueError("n_iter and thin must be >= 1")
        return Schedule(n_iter, burn_in_count(n_iter, burn_in), thin)

    def kept(self, done: int) -> int:
        """Draws kept after ``done`` iterations."""
        return 0 if done <= self.n_burn else (done - self.n_burn + self.thin - 1) // self.thin

    @property
    def n_keep(self) -> int:
        return self.kept(self.n_iter)


@dataclass
class Trace:
    """The kept draws ``(K, S, ...)`` of ``K`` chains and their counters ``(K,)``."""

    position: np.ndarray
    logdensity: np.ndarray
    loglik: np.ndarray
    accepted: np.ndarray
    kernel: np.ndarray
    diverging: np.ndarray
    accepted_post: np.ndarray
    accepted_burn: np.ndarray
    n_diverging: np.ndarray

    @staticmethod
    def empty(n_chains: int, n_keep: int, dim: int) -> Trace:
        K, S = n_chains, n_keep
        counters = (np.zeros(K, dtype=np.int64) for _ in COUNTERS)
        return Trace(
            np.empty((K, S, dim)),
            np.empty((K, S)),
            np.empty((K, S)),
            np.zeros((K, S), dtype=bool),
            np.zeros((K, S), dtype=np.int8),
            np.zeros((K, S), dtype=bool),
            *counters,
        )

    def record(self, it: int, schedule: Schedule, state: Any, info: Info) -> None:
        """Count iteration ``it`` (0-based) and keep its draw if the schedule says so."""
        self.n_diverging += info.diverging
        if it < schedule.n_burn:
            self.accepted_burn += info.accepted
            return
        self.accepted_post += info.accepted
        r = it - schedule.n_burn
        if r % schedule.thin == 0:
            s = r // schedule.thin
            self.position[:, s] = state.position
            self.logdensity[:, s] = state.logdensity
            self.loglik[:, s] = state.loglik
            self.accepted[:, s] = info.accepted
            self.kernel[:, s] = info.kernel
            self.diverging[:, s] = info.diverging

    def to_arrays(self, kept: int) -> dict[str, np.ndarray]:
        """The first ``kept`` draws and the counters (a checkpoint's part)."""
        out = {name: getattr(self, name)[:, :kept] for name in DRAW_FIELDS}
        return out | {name: getattr(self, name) for name in COUNTERS}

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Fill the trace from :meth:`to_arrays`' output."""
        for name in DRAW_FIELDS:
            kept = arrays[name].shape[1]
            getattr(self, name)[:, :kept] = arrays[name]
        for name in COUNTERS:
            getattr(self, name)[:] = arrays[name]


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
    final_state: Any  # the kernel's state after the last iteration
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
