"""Adaptation of the MH kernel during burn-in: the step factor and the diagonal metric.

Two pieces, each a small state with pure updates, used by :func:`bayesprune.mcmc.runner.
run_chains` during burn-in only (after burn-in the kernel is frozen, so every kept draw comes
from one fixed, valid MH kernel):

* :class:`DualAveraging` (its settings) with :class:`DualAveragingState` (``init`` /
  ``update`` / ``final``, after BlackJAX's ``adaptation/step_size.py``): one multiplicative
  factor ``f`` per chain on its whole kernel (``Kernel.scaled``), tuned towards a target
  acceptance probability (Hoffman & Gelman 2014, Alg. 5) driven by the chain's MH acceptance
  probability ``min(1, ratio)`` (:func:`accept_prob`). One factor per chain keeps chain ``k``
  independent of ``K``. After burn-in each factor is frozen at its average (``final``).
* :class:`MetricAdaptation` with :class:`MetricState`: a diagonal preconditioner per chain (Stan's windowed scheme):
  after an initial buffer, the chain's draws in doubling windows give a per-coordinate
  variance estimate ``v_i``; at each window's end the proposal scale of coordinate ``i``
  becomes proportional to ``sqrt(v_i)`` (:func:`metric_kernel`; the drift step keeps its
  ratio to the squared scale, so MALA stays MALA: ``h_i = s_i^2 / 2`` is the preconditioned
  MALA ``x' = x + (eps^2 / 2) M grad + eps M^(1/2) xi`` with ``M = diag(v)``) and the dual
  averaging restarts; a terminal buffer tunes the factor for the final metric alone.
  One metric per chain keeps chains in different modes (different curvature) apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bayesprune.mcmc.kernel import Info, KernelParams


@dataclass(frozen=True)
class DualAveraging:
    """Dual averaging of ``x = log f`` per chain (Hoffman & Gelman 2014, Alg. 5).

    At adaptation step ``t = 1, 2, ...`` with acceptance probabilities ``alpha`` (K,)::

        H_t    = (1 - 1/(t + t0)) H_{t-1} + (target_accept - alpha) / (t + t0)
        x_t    = mu - sqrt(t) / gamma * H_t,     mu = log(10 f_0) = log 10
        xbar_t = t^-kappa x_t + (1 - t^-kappa) xbar_{t-1}

    The chain runs with ``f = exp(x_t)`` during burn-in (``f_0 = 1``: the configured step) and
    with ``exp(xbar)`` afterwards. ``x`` is clipped to ``[-max_log, max_log]``. Defaults are
    Stan's (``gamma`` 0.05, ``t0`` 10, ``kappa`` 0.75).
    """

    target_accept: float = 0.5
    gamma: float = 0.05
    t0: float = 10.0
    kappa: float = 0.75
    mu: float = math.log(10.0)
    max_log: float = 30.0

    def __post_init__(self) -> None:
        if not 0.0 < self.target_accept < 1.0:
            raise ValueError("target_accept must lie in (0, 1)")
        if self.gamma <= 0 or self.t0 < 0 or not 0.5 < self.kappa <= 1.0:
            raise ValueError("dual averaging needs gamma > 0, t0 >= 0, kappa in (0.5, 1]")

    def to_list(self) -> list[float]:
        return [self.target_accept, self.gamma, self.t0, self.kappa, self.mu, self.max_log]

    def init(self, n_chains: int) -> DualAveragingState:
        """Every chain at ``log f = 0`` (the configured step), counting from iteration 0."""
        zeros = np.zeros(n_chains)
        return DualAveragingState(zeros, zeros, zeros, 0)

    def update(self, state: DualAveragingState, done: int, alpha: np.ndarray) -> DualAveragingState:
        """The state after iteration ``done`` (1-based count of iterations run) with acceptance
        probabilities ``alpha`` (K,): adaptation step ``t = done - state.start`` (pure)."""
        t = done - state.start
        w = 1.0 / (t + self.t0)
        h_bar = (1.0 - w) * state.h_bar + w * (self.target_accept - alpha)
        x = np.clip(self.mu - math.sqrt(t) / self.gamma * h_bar, -self.max_log, self.max_log)
        eta = t ** (-self.kappa)
        x_bar = eta * x + (1.0 - eta) * state.x_bar
        return DualAveragingState(x, h_bar, x_bar, state.start)

    @staticmethod
    def final(state: DualAveragingState) -> DualAveragingState:
        """The state frozen at the averaged factor (``x = x_bar``), used after burn-in."""
        return replace(state, x=state.x_bar.copy())

    @staticmethod
    def restart(state: DualAveragingState, done: int) -> DualAveragingState:
        """Start over from ``log f = 0`` after iteration ``done`` (a new metric window)."""
        zeros = np.zeros(state.x.shape[0])
        return DualAveragingState(zeros, zeros, zeros, done)


@dataclass(frozen=True)
class DualAveragingState:
    """Per chain ``(K,)``: ``x = log f`` in use, ``h_bar``, the average ``x_bar``; ``start``
    the iteration at which the averaging last (re)started."""

    x: np.ndarray
    h_bar: np.ndarray
    x_bar: np.ndarray
    start: int

    @property
    def factor(self) -> np.ndarray:
        """The factor ``f = exp(x)`` (K,)."""
        return np.exp(self.x)


def accept_prob(info: Info) -> np.ndarray:
    """MH acceptance probability ``min(1, ratio)`` of each chain's step (0 where diverging)."""
    lar = np.nan_to_num(info.log_accept_ratio, nan=-np.inf)
    return np.exp(np.minimum(lar, 0.0))


@dataclass(frozen=True)
class MetricAdaptation:
    """Windows of a burn-in of ``n_burn`` iterations for the diagonal metric.

    Fractions of the burn-in (Stan's 75 / 25 / 50 of 1,000): ``init_buffer`` iterations
    before the first window, a first window of ``base_window`` doubling each time, the last
    window stretched to the ``term_buffer`` at the end. ``regularize`` shrinks each window's
    variance towards ``1e-3`` as Stan does: ``v = n / (n + 5) * var + 1e-3 * 5 / (n + 5)``.
    """

    n_burn: int
    init_buffer: float = 0.075
    base_window: float = 0.025
    term_buffer: float = 0.05

    def window_ends(self) -> list[int]:
        """Iteration counts (1-based, ``<= n_burn``) after which the metric is updated."""
        n = self.n_burn
        start = max(1, round(self.init_buffer * n))
        stop = n - max(1, round(self.term_buffer * n))
        size = max(3, round(self.base_window * n))
        ends: list[int] = []
        while start + size <= stop:
            end = start + size
            if end + 2 * size > stop:  # the last window takes the rest
                end = stop
            ends.append(end)
            start, size = end, 2 * size
        return ends

    def window_start(self, end: int) -> int:
        """First iteration count of the window ending at ``end``."""
        ends = self.window_ends()
        i = ends.index(end)
        return max(1, round(self.init_buffer * self.n_burn)) if i == 0 else ends[i - 1]


@dataclass(frozen=True)
class Welford:
    """Running mean and sum of squared deviations of ``K`` chains' positions ``(K, d)``."""

    count: int
    mean: np.ndarray
    m2: np.ndarray

    @staticmethod
    def init(K: int, d: int) -> Welford:
        return Welford(0, np.zeros((K, d)), np.zeros((K, d)))

    def update(self, x: np.ndarray) -> Welford:
        n = self.count + 1
        delta = x - self.mean
        mean = self.mean + delta / n
        return Welford(n, mean, self.m2 + delta * (x - mean))

    def variance(self) -> np.ndarray:
        """Stan's regularised variance (see :class:`MetricAdaptation`)."""
        n = self.count
        var = self.m2 / max(n - 1, 1)
        return (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))


def metric_kernel(
    scale: np.ndarray, drift: np.ndarray, current: np.ndarray, variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-chain ``(scale, drift)`` ``(K, d)`` preconditioned by ``variance`` ``(K, d)``.

    ``scale``/``drift`` are the configured kernel (1 or K rows; they fix which coordinates
    move and each one's drift-to-squared-scale ratio, e.g. 1/2 for MALA, 0 for ``eta``'s
    random walk); ``current`` ``(K, d)`` the scales in use. Each chain's new scales are
    ``sqrt(variance)`` times one factor per chain that keeps their geometric mean equal to
    that of ``current``, so the step the acceptance adapted to carries over.
    """
    K = variance.shape[0]
    base_scale = np.broadcast_to(scale, (K, scale.shape[-1]))
    base_drift = np.broadcast_to(drift, (K, drift.shape[-1]))
    moving = base_scale > 0
    sd = np.sqrt(variance)
    out = np.zeros((K, base_scale.shape[1]))
    for k in range(K):
        m = moving[k]
        if not m.any():
            continue
        c = math.exp(np.mean(np.log(current[k, m])) - np.mean(np.log(sd[k, m])))
        out[k, m] = c * sd[k, m]
    ratio = np.zeros_like(out)
    ratio[moving] = base_drift[moving] / base_scale[moving] ** 2
    return out, ratio * out**2


@dataclass(frozen=True)
class MetricState:
    """The diagonal metric's adaptation of ``K`` chains: the kernel it preconditions
    (``base``: the configured kernel until the first window ends), the running moments of the
    current window and the last window's variances (None before the first)."""

    base: KernelParams
    welford: Welford
    variance: np.ndarray | None = None

    @staticmethod
    def init(params: KernelParams, n_chains: int) -> MetricState:
        """Before any window, of the configured kernel ``params``."""
        from bayesprune.mcmc.kernel import KernelParams

        K, d = n_chains, params.dim
        base = KernelParams(
            np.array(np.broadcast_to(params.scale, (K, d))),
            np.array(np.broadcast_to(params.drift, (K, d))),
            params.langevin_prob,
        )
        return MetricState(base, Welford.init(K, d))

    def update(
        self,
        windows: MetricAdaptation,
        done: int,
        position: np.ndarray,
        params: KernelParams,
        factor: np.ndarray,
    ) -> tuple[MetricState, bool]:
        """The state after iteration ``done`` at ``position`` (K, d), and whether a window
        ended (then ``base`` is ``params`` preconditioned by its variances at the scales in
        use, ``base`` times ``factor``, and the caller restarts the dual averaging)."""
        from bayesprune.mcmc.kernel import KernelParams

        ends = windows.window_ends()
        welford = self.welford
        if windows.window_start(ends[0]) < done <= ends[-1]:
            welford = welford.update(position)
        if done not in ends:
            return replace(self, welford=welford), False
        variance = welford.variance()
        in_use = self.base.scaled(factor).scale
        scale, drift = metric_kernel(params.scale, params.drift, in_use, variance)
        base = KernelParams(scale, drift, params.langevin_prob)
        return MetricState(base, Welford.init(*position.shape), variance), True
