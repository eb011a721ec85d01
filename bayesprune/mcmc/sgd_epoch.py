"""The authors' SGD-epoch kernel (``sampler.drift: sgd_epoch``, ``../shared/SPEC.md``), bug for
bug; the second kernel of :func:`bayesprune.mcmc.runner.run_chains`, with the shape of
:mod:`bayesprune.mcmc.kernel` (a pure :func:`init` and :func:`step` over :class:`State`, with
:class:`bayesprune.mcmc.kernel.Info` and :class:`bayesprune.mcmc.kernel.StepNoise`).

With probability ``langevin_prob``, ``w_gd`` = one epoch of per-example SGD (batch 1, data
order, learning rate ``sgd_lr``; :func:`bayesprune.authors.sgd_epochs`) on
``0.5 * sum (target - out)^2``, ``w' ~ N(w_gd, s^2 I)``, ``w'_gd`` = the same epoch from
``w'``, and

    log q ratio = -0.5 ||w - w'_gd||^2 / v + 0.5 ||w' - w_gd||^2 / v

with ``v = s`` (``q_ratio: authors``) or ``v = s^2`` (``q_ratio: exact``). Otherwise a random
walk ``N(w, s^2 I)`` with ratio 0. ``eta`` takes a random-walk step ``N(0, noise_step^2)`` in
the same proposal. The pruned coordinates are kept as the resample block's ``mask`` says
(``index``: exactly 0 everywhere; ``by_value``: the zeros of the start, the authors' way; see
:mod:`bayesprune.authors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from bayesprune.authors import AuthorsPosterior, sgd_epochs
from bayesprune.mcmc.kernel import Info, StepNoise

QRatio = Literal["exact", "authors"]
MaskMode = Literal["index", "by_value"]


@dataclass(frozen=True)
class State:
    """Current position of every chain with its log density and log likelihood, and
    ``free`` ``(K, P)``: 1.0 where a coordinate moves, 0.0 where it is pruned."""

    position: np.ndarray  # (K, d)
    logdensity: np.ndarray  # (K,)
    loglik: np.ndarray  # (K,)
    free: np.ndarray  # (K, P)


@dataclass(frozen=True)
class KernelSettings:
    """The authors' proposal: step ``s`` (per chain ``(K,)`` when adapted), the ``eta``
    random-walk std, the Langevin probability, the SGD learning rate, the ratio's variance
    (``authors``: ``s``; ``exact``: ``s^2``) and how a mask is kept."""

    step_size: np.ndarray | float = 0.025
    noise_step: np.ndarray | float = 0.2
    langevin_prob: float = 0.5
    sgd_lr: float = 0.01
    q_ratio: QRatio = "authors"
    mask: MaskMode = "index"

    def __post_init__(self) -> None:
        if self.q_ratio not in ("authors", "exact"):
            raise ValueError(f"q_ratio must be authors or exact, got {self.q_ratio!r}")
        if self.mask not in ("index", "by_value"):
            raise ValueError(f"mask must be index or by_value, got {self.mask!r}")
        if np.any(np.asarray(self.step_size) <= 0) or self.sgd_lr <= 0:
            raise ValueError("step_size and sgd_lr must be > 0")
        if not 0.0 <= self.langevin_prob <= 1.0:
            raise ValueError("langevin_prob must lie in [0, 1]")

    def scaled(self, factor: np.ndarray) -> KernelSettings:
        """Step and noise step times a per-chain ``factor`` ``(K,)`` (adaptation)."""
        return KernelSettings(
            np.asarray(self.step_size) * factor,
            np.asarray(self.noise_step) * factor,
            self.langevin_prob,
            self.sgd_lr,
            self.q_ratio,
            self.mask,
        )

    def init(self, position: np.ndarray, target: AuthorsPosterior) -> State:
        """:func:`init` at ``position`` (K, d), its pruned coordinates (:func:`free_coordinates`
        of this ``mask`` mode) set to 0."""
        x0 = np.array(position, dtype=np.float64, ndmin=2)
        free = free_coordinates(target, x0, self.mask)
        x0[:, : target.n_params] *= free
        return init(x0, target, free)

    def step(self, state: State, noise: StepNoise, target: AuthorsPosterior) -> tuple[State, Info]:
        """:func:`step` with these settings."""
        return step(state, noise, target, self)

    def to_dict(self, target: AuthorsPosterior) -> dict:
        """The record of ``ChainResult.params``: the (largest) scales per coordinate, no drift
        (the SGD epoch is no gradient drift), and the kernel's own settings."""
        d, P = target.dim, target.n_params
        scale = np.full(d, 0.0)
        scale[:P] = float(np.max(np.asarray(self.step_size)))
        if target.eta_index is not None:
            scale[target.eta_index] = float(np.max(np.asarray(self.noise_step)))
        return {
            "scale": scale.tolist(),
            "drift": [0.0] * d,
            "langevin_prob": self.langevin_prob,
            "kernel": "sgd_epoch",
            "sgd_lr": self.sgd_lr,
            "q_ratio": self.q_ratio,
            "mask": self.mask,
        }


def init(position: np.ndarray, target: AuthorsPosterior, free: np.ndarray) -> State:
    """State at ``position`` ``(K, d)`` with the coordinates ``free`` ``(K, P)`` (1.0) moving;
    a non-finite start is an error."""
    x = np.array(position, dtype=np.float64, ndmin=2)
    lp, ll = target.value(x)
    if not np.all(np.isfinite(lp)):
        raise ValueError(
            f"non-finite log density at the start of chains {np.flatnonzero(~np.isfinite(lp))}"
        )
    return State(x, lp, ll, free)


def step(
    state: State,
    noise: StepNoise,
    target: AuthorsPosterior,
    kernel: KernelSettings,
) -> tuple[State, Info]:
    """One step of the authors' proposal for every chain (pure)."""
    P, free = target.n_params, state.free
    x = state.position
    K = x.shape[0]
    w = x[:, :P]
    lang = noise.u_kernel < kernel.langevin_prob
    s = np.broadcast_to(np.asarray(kernel.step_size, dtype=np.float64), (K,))[:, None]
    sgd_free = free if kernel.mask == "index" else np.ones_like(free)
    T, H, lr = target.sgd_targets(), target.n_hidden, kernel.sgd_lr
    centre = w.copy()
    rows = np.flatnonzero(lang)
    with np.errstate(over="ignore", invalid="ignore"):
        if rows.size:
            centre[rows] = sgd_epochs(w[rows], target._X64, T, H, lr, sgd_free[rows])
        prop = x.copy()
        prop[:, :P] = (centre + s * noise.normal[:, :P]) * free
        if target.eta_index is not None:
            ns = np.broadcast_to(np.asarray(kernel.noise_step, dtype=np.float64), (K,))
            prop[:, target.eta_index] += ns * noise.normal[:, target.eta_index]
        log_q = np.zeros(K)
        if rows.size:
            back = sgd_epochs(prop[rows, :P], target._X64, T, H, lr, sgd_free[rows])
            back *= free[rows]  # w'_gd is masked in both modes
            fwd = centre[rows] if kernel.mask == "by_value" else centre[rows] * free[rows]
            var = s[rows, 0] if kernel.q_ratio == "authors" else s[rows, 0] ** 2
            first = -0.5 * np.sum((w[rows] - back) ** 2, axis=1) / var
            second = -0.5 * np.sum((prop[rows, :P] - fwd) ** 2, axis=1) / var
            log_q[rows] = first - second
        lp_new, ll_new = target.value(prop)
        log_ratio = lp_new - state.logdensity + log_q
    finite = np.isfinite(log_ratio) & np.isfinite(ll_new)
    with np.errstate(divide="ignore"):
        accepted = finite & (np.log(noise.u_accept) < log_ratio)
    a = accepted[:, None]
    new = State(
        np.where(a, prop, x),
        np.where(accepted, lp_new, state.logdensity),
        np.where(accepted, ll_new, state.loglik),
        free,
    )
    info = Info(accepted, lang.astype(np.int8), ~finite, np.where(finite, log_ratio, np.nan), prop)
    return new, info


def free_coordinates(target: AuthorsPosterior, x0: np.ndarray, mode: MaskMode) -> np.ndarray:
    """``(K, P)`` 1.0 where a chain's coordinate moves: ``index``, all but the target's
    (per-chain) mask; ``by_value`` (the authors), all but the zeros of the start."""
    K, P = x0.shape[0], target.n_params
    if mode == "by_value":
        return (x0[:, :P] != 0.0).astype(np.float64)
    fixed = np.zeros((K, P), dtype=bool)
    if target.chain_mask is not None:
        fixed[:] = target.chain_mask
    elif target.mask.size:
        fixed[:, target.mask] = True
    return (~fixed).astype(np.float64)
