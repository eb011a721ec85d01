"""What the MCMC layer needs of a target: the :class:`LogDensity` record it returns and the
:class:`Model` protocol (e.g. :class:`bayesprune.likelihoods.MLPPosterior` satisfies it).

The runner and the Langevin kernel take their target through this protocol only (no run-time
import of a concrete model); the authors' SGD-epoch kernel, ``sgd_epoch``, is tied to their
model by design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class LogDensity:
    """Value of a batched log density: one entry per chain.

    ``logdensity`` (K,), ``grad`` (K, d), ``loglik`` (K,) (the log likelihood part; equal to
    ``logdensity`` for targets without a likelihood/prior split).
    """

    logdensity: np.ndarray
    grad: np.ndarray
    loglik: np.ndarray


class Model(Protocol):
    """What the runner and the kernels need of a target (e.g.
    :class:`bayesprune.likelihoods.MLPPosterior`): the batched log density with its gradient
    and log likelihood, the number of network coordinates (the rest of a position is
    ``eta = log tau^2`` at ``eta_index``, or nothing), and its pruned coordinates."""

    n_params: int
    eta_index: int | None

    def __call__(self, x: np.ndarray) -> LogDensity: ...

    def zero_pruned(self, theta: np.ndarray) -> np.ndarray:
        """Set the pruned coordinates of ``theta`` ``(K, n_params)`` to 0 in place."""
        ...
