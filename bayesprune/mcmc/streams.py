"""Random streams of the chains: one seed sequence per chain and purpose, noise in blocks, and
the chains' starting positions.

Chain ``k`` samples from ``SeedSequence(seed, spawn_key=(k, 1))`` and starts from
``SeedSequence(seed, spawn_key=(k, 0))``, so chain ``k``'s draws do not depend on ``K``. Its
noise is drawn :data:`BLOCK_SIZE` steps at a time (normals, then the kernel uniforms, then the
acceptance uniforms), which is part of the stream's definition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from bayesprune.mcmc.kernel import StepNoise

if TYPE_CHECKING:
    from bayesprune.likelihoods import MLPPosterior

BLOCK_SIZE = 256  # steps of noise drawn at once per chain (part of the stream definition)


def chain_seed_sequence(seed: int, chain: int, purpose: int) -> np.random.SeedSequence:
    """Seed sequence of chain ``chain``: ``purpose`` 0 initialisation, 1 sampling.

    Equal to ``SeedSequence(seed).spawn(K)[chain].spawn(2)[purpose]`` for any ``K > chain``.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(int(chain), int(purpose)))


def generators(seed: int, n_chains: int) -> list[np.random.Generator]:
    """The sampling generator of every chain (``chain_seed_sequence(seed, k, 1)``)."""
    return [
        np.random.Generator(np.random.PCG64(chain_seed_sequence(seed, k, 1)))
        for k in range(n_chains)
    ]


def draw_block(gens: list[np.random.Generator], dim: int, size: int) -> StepNoise:
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


class NoiseStream:
    """Every chain's step noise, drawn :data:`BLOCK_SIZE` steps at a time. Its position (the
    block's first iteration and the generators' states there) is what a checkpoint keeps."""

    def __init__(
        self, seed: int, n_chains: int, dim: int, block_start: int = 0, states: list | None = None
    ) -> None:
        self.gens = generators(seed, n_chains)
        if states is not None:
            for gen, state in zip(self.gens, states, strict=True):
                gen.bit_generator.state = state
        self.dim = dim
        self.block_start = block_start
        self.states = [g.bit_generator.state for g in self.gens]
        self.block = draw_block(self.gens, dim, BLOCK_SIZE)

    def at(self, iteration: int) -> StepNoise:
        """The noise of step ``iteration`` (0-based; steps are taken in order)."""
        j = iteration - self.block_start
        if j >= BLOCK_SIZE:
            self.block_start = iteration
            self.states = [g.bit_generator.state for g in self.gens]
            self.block = draw_block(self.gens, self.dim, BLOCK_SIZE)
            j = 0
        b = self.block
        return StepNoise(b.normal[:, j], b.u_kernel[:, j], b.u_accept[:, j])


def initial_positions(
    posterior: MLPPosterior,
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
