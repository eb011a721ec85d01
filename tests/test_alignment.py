"""Symmetry alignment of MLP draws, per-chain runs and distinguishable modes.

Alignment must be an exact symmetry (every prediction kept to 1e-12), undo random
relabellings exactly, and give the single-chain pruning scores back from scrambled draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from bayesprune.alignment import SIGNED, align, apply_symmetry
from bayesprune.networks import MLPSpec, forward_numpy
from bayesprune.pruning import scores
from bayesprune.runs import distinguishable_modes, replicate_warning, run_draws, runs_of

ARCHS = [(4, 6, 2), (3, 5, 4, 2)]  # one and two hidden layers
ACTS = ["sigmoid", "tanh", "relu"]


def random_symmetry(spec: MLPSpec, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every draw ``(S, P)`` relabelled by its own random permutation and (where the
    activation has one) random sign flips: the same functions, scrambled copies."""
    out = np.asarray(theta, dtype=np.float64)
    signed = spec.hidden_activation in SIGNED
    for layer in range(spec.n_layers - 1):
        h = spec.sizes[layer + 1]
        perm = np.argsort(rng.random((out.shape[0], h)), axis=1)
        sign = rng.choice([-1, 1], size=perm.shape) if signed else np.ones_like(perm)
        out = apply_symmetry(spec, out, layer, perm, sign)
    return out


def planted_draws(spec: MLPSpec, n: int, seed: int, spread: float = 2.0) -> np.ndarray:
    """Draws of one chain in one copy: a well-separated mean plus small Gaussian noise."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(0.0, spread, spec.n_params)
    sd = rng.uniform(0.05, 0.3, spec.n_params)
    return mean + sd * rng.standard_normal((n, spec.n_params))


@pytest.mark.parametrize("sizes", ARCHS)
@pytest.mark.parametrize("act", ACTS)
def test_alignment_preserves_every_prediction(sizes: tuple[int, ...], act: str) -> None:
    spec = MLPSpec(sizes, act)
    rng = np.random.default_rng(3)
    draws = random_symmetry(spec, planted_draws(spec, 120, 1), rng)
    x = rng.normal(size=(40, sizes[0]))
    before = forward_numpy(spec, draws, x)
    result = align(spec, draws)
    assert result.converged
    np.testing.assert_allclose(forward_numpy(spec, result.theta, x), before, rtol=0, atol=1e-12)


@pytest.mark.parametrize("sizes", ARCHS)
@pytest.mark.parametrize("act", ACTS)
def test_random_relabelling_is_mapped_back_exactly(sizes: tuple[int, ...], act: str) -> None:
    spec = MLPSpec(sizes, act)
    draws = planted_draws(spec, 150, 2)
    reference = align(spec, draws)
    scrambled = random_symmetry(spec, draws, np.random.default_rng(5))
    assert np.abs(scrambled - draws).max() > 1.0  # the copies really differ
    again = align(spec, scrambled)
    np.testing.assert_allclose(again.theta, reference.theta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(again.reference, reference.reference, rtol=0, atol=1e-12)


def test_sigmoid_flip_moves_the_outgoing_weight_into_the_next_bias() -> None:
    spec = MLPSpec((2, 3, 1), "sigmoid")
    theta = np.arange(1.0, spec.n_params + 1)[None, :]
    flipped = apply_symmetry(spec, theta, 0, np.array([[0, 1, 2]]), np.array([[-1, 1, 1]]))
    w_out = spec.blocks[2].slice
    b_out = spec.blocks[3].slice
    assert flipped[0, w_out][0] == -theta[0, w_out][0]
    assert flipped[0, b_out][0] == theta[0, b_out][0] + theta[0, w_out][0]
    with pytest.raises(ValueError, match="no sign symmetry"):
        apply_symmetry(
            MLPSpec((2, 3, 1), "relu"), theta, 0, np.array([[0, 1, 2]]), -np.ones((1, 3))
        )


def test_planted_relabelled_chain_pooled_stn_is_wrong_aligned_stn_is_the_chain_stn() -> None:
    spec = MLPSpec((4, 8, 1), "tanh")
    chain = planted_draws(spec, 400, 7, spread=1.5)
    truth = scores(chain, "stn")
    scrambled = random_symmetry(spec, chain, np.random.default_rng(11))  # one copy per draw
    pooled = scores(scrambled, "stn")
    aligned = scores(align(spec, scrambled).theta, "stn")
    canonical = scores(align(spec, chain).theta, "stn")
    # tanh: alignment is a permutation with sign flips, so STN values are only relabelled
    np.testing.assert_allclose(np.sort(canonical), np.sort(truth), rtol=1e-10)
    np.testing.assert_allclose(aligned, canonical, rtol=1e-10)
    hidden = np.r_[spec.blocks[0].slice, spec.blocks[1].slice, spec.blocks[2].slice]
    assert np.median(pooled[hidden]) < 0.2 * np.median(truth[hidden])
    rho_pooled = spearmanr(np.sort(truth), np.sort(pooled)).statistic
    assert spearmanr(pooled, truth).statistic < rho_pooled  # order scrambled, not just scale


def test_chain_runs_align_each_chain_on_its_own() -> None:
    spec = MLPSpec((3, 5, 1), "sigmoid")
    rng = np.random.default_rng(0)
    chains = np.stack([random_symmetry(spec, planted_draws(spec, 80, s), rng) for s in (1, 2, 3)])
    runs = runs_of("chain", 3)
    assert [r.label for r in runs] == ["chain0", "chain1", "chain2"]
    for k, run in enumerate(runs):
        np.testing.assert_array_equal(run_draws(spec, chains, run)[0], align(spec, chains[k]).theta)
    (pooled,) = runs_of("replicate", 3)
    assert pooled.chains == (0, 1, 2) and pooled.chain is None
    assert run_draws(spec, chains, pooled).shape == chains.shape
    with pytest.raises(ValueError, match="pruning.unit"):
        runs_of("draw", 3)


def test_replicate_warning_only_above_threshold() -> None:
    assert replicate_warning(1.05) is None
    assert replicate_warning(float("nan")) is None
    assert "pruning.unit: chain" in replicate_warning(2.6)


def test_distinguishable_modes_from_monte_carlo_error() -> None:
    rng = np.random.default_rng(4)
    same = rng.normal(0.0, 1.0, (3, 2000, 10))
    assert distinguishable_modes(same)["n_modes"] == 1
    # a shift of 10 standard errors at one point separates chain 2 from the others
    shifted = same.copy()
    shifted[2, :, 4] += 10.0 / np.sqrt(2000)
    result = distinguishable_modes(shifted)
    assert result["n_modes"] == 2
    assert result["groups"] == [[0, 1], [2]]
    # with an ESS 100x smaller the same shift is within Monte Carlo error
    assert distinguishable_modes(shifted, np.full((3, 10), 20.0))["n_modes"] == 1
