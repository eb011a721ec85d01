"""Runs of method A: which chains of a replicate's full posterior share one mask.

``pruning.unit`` decides it (SPEC part A, "Modes"):

- ``chain``: every chain is its own run (the paper's protocol: a run is one chain). Chain
  ``k``'s draws, aligned on their own (:func:`bayesprune.alignment.align`), give its scores,
  mask, masked mean and point metrics.
- ``replicate``: one run of all chains, scored on their pooled draws aligned to one common
  reference. Sound only when the aligned chains agree: :func:`replicate_warning` says when
  they do not.

A run's parameter vectors are in its aligned labelling; its mask indices refer to it, and the
pruned and resampled networks of the run live in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bayesprune.alignment import align
from bayesprune.networks import MLPSpec

UNITS = ("chain", "replicate")

#: aligned parameter R-hat above which pooling a replicate's chains into one run is unsound
REPLICATE_RHAT_WARNING = 1.1


@dataclass(frozen=True)
class Run:
    """A run: its label (``chain0``, ``chain1``, ... or ``pooled``) and its full-posterior chains."""

    label: str
    chains: tuple[int, ...]

    @property
    def chain(self) -> int | None:
        """The run's one chain (``unit: chain``), else None."""
        return self.chains[0] if len(self.chains) == 1 else None

    def to_dict(self) -> dict:
        return {"run": self.label, "chain": self.chain, "chains": list(self.chains)}


def runs_of(unit: str, n_chains: int) -> list[Run]:
    """The runs of a replicate whose full posterior has ``n_chains`` chains."""
    if unit == "chain":
        return [Run(f"chain{k}", (k,)) for k in range(n_chains)]
    if unit == "replicate":
        return [Run("pooled", tuple(range(n_chains)))]
    raise ValueError(f"pruning.unit must be one of {UNITS}, got {unit!r}")


def run_draws(spec: MLPSpec, theta: np.ndarray, run: Run) -> np.ndarray:
    """The aligned draws ``(len(run.chains), draws, P)`` a run is scored on, from the full
    posterior's raw draws ``(chains, draws, P)``."""
    own = np.asarray(theta, dtype=np.float64)[list(run.chains)]
    return align(spec, own).theta


def replicate_warning(rhat_aligned_median: float) -> str | None:
    """A warning when one mask for a replicate pools chains that sit in different modes."""
    if math.isfinite(rhat_aligned_median) and rhat_aligned_median > REPLICATE_RHAT_WARNING:
        return (
            f"pruning.unit: replicate pools chains whose aligned parameter R-hat (median "
            f"{rhat_aligned_median:.2f}) exceeds {REPLICATE_RHAT_WARNING}: the chains sit in "
            "different modes, so pooled scores and the pooled mean network mix them; "
            "consider pruning.unit: chain"
        )
    return None


def distinguishable_modes(
    pred: np.ndarray, ess: np.ndarray | None = None, alpha: float = 0.01
) -> dict:
    """How many chains sit in distinguishable modes, from predictions at fixed points.

    ``pred`` ``(chains, draws, M)``: a label-free prediction per draw (e.g. the regression mean
    or a class probability at ``M`` test points). Two chains are *indistinguishable* when at no
    point their posterior means differ by more than Monte Carlo error allows: ``|m_a - m_b| /
    sqrt(se_a^2 + se_b^2)`` below the normal quantile at ``alpha / (2 M pairs)`` (Bonferroni),
    with ``se = sd / sqrt(ess)`` per chain and point (``ess`` ``(chains, M)``; default: the
    number of draws). Modes are the connected groups of indistinguishable chains.
    """
    from scipy.stats import norm

    p = np.asarray(pred, dtype=np.float64)
    n_chains, n_draws, n_points = p.shape
    mean = p.mean(axis=1)
    sd = p.std(axis=1, ddof=1) if n_draws > 1 else np.zeros_like(mean)
    e = np.full(mean.shape, float(n_draws)) if ess is None else np.maximum(ess, 1.0)
    se2 = sd**2 / e
    pairs = max(n_chains * (n_chains - 1) // 2, 1)
    z_crit = float(norm.isf(alpha / (2 * n_points * pairs))) if n_points else math.inf
    parent = list(range(n_chains))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    z_max = np.zeros((n_chains, n_chains))
    for a in range(n_chains):
        for b in range(a + 1, n_chains):
            denom = np.sqrt(se2[a] + se2[b])
            diff = np.abs(mean[a] - mean[b])
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(denom > 0, diff / denom, np.where(diff > 0, np.inf, 0.0))
            z_max[a, b] = z_max[b, a] = float(np.max(z)) if n_points else 0.0
            if z_max[a, b] <= z_crit:
                parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for k in range(n_chains):
        groups.setdefault(find(k), []).append(k)
    return {
        "n_modes": len(groups),
        "groups": sorted(groups.values()),
        "z_critical": z_crit,
        "z_max": z_max.round(3).tolist(),
        "alpha": alpha,
    }
