"""Langevin / random-walk MH kernel and chain runner.

Tolerances come from Monte Carlo error: standard errors from independent draws (invariance
tests) or from ArviZ's bulk ESS (long-run tests), with a 5-sigma margin.
"""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from bayesprune.likelihoods import LogDensity, MLPPosterior
from bayesprune.mcmc import kernel as mh
from bayesprune.mcmc import runner, streams, trace
from bayesprune.networks import MLPSpec, forward

torch.set_num_threads(1)

Z = 5.0  # sigma margin of every Monte Carlo check


class Gaussian:
    """N(mu, Sigma) target, batched (a :class:`bayesprune.mcmc.model.Model` without pruned coordinates)."""

    eta_index = None

    def __init__(self, mu: np.ndarray, cov: np.ndarray) -> None:
        self.mu, self.cov = np.asarray(mu, float), np.asarray(cov, float)
        self.prec = np.linalg.inv(self.cov)
        self.n_params = len(self.mu)

    def zero_pruned(self, theta: np.ndarray) -> np.ndarray:
        return theta

    def __call__(self, x: np.ndarray) -> LogDensity:
        r = x - self.mu
        g = -r @ self.prec
        lp = 0.5 * np.einsum("kd,kd->k", r, g)
        return LogDensity(lp, g, lp)


GAUSS = Gaussian([1.0, -2.0, 0.5], [[1.0, 0.8, 0.2], [0.8, 2.0, -0.5], [0.2, -0.5, 0.7]])


def check_gaussian(draws: np.ndarray, mu: np.ndarray, cov: np.ndarray, ess: float) -> None:
    """Mean and covariance of ``draws`` (n, d) match N(mu, cov) within Z standard errors."""
    sd = np.sqrt(np.diag(cov))
    se_mean = sd / np.sqrt(ess)
    assert np.all(np.abs(draws.mean(0) - mu) < Z * se_mean), (draws.mean(0), mu)
    emp = np.cov(draws.T)
    se_cov = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / ess)
    assert np.all(np.abs(emp - cov) < Z * se_cov), (emp, cov)


# ---------------------------------------------------------------- (b) invariance
@pytest.mark.parametrize(
    "langevin_prob, langevin_step", [(1.0, None), (0.0, None), (0.5, None), (1.0, 0.4)]
)
def test_kernel_leaves_gaussian_invariant(
    langevin_prob: float, langevin_step: float | None
) -> None:
    K = 20000
    rng = np.random.default_rng(11)
    x0 = rng.multivariate_normal(GAUSS.mu, GAUSS.cov, size=K)
    params = mh.kernel_params(3, 1.1, langevin_step=langevin_step, langevin_prob=langevin_prob)
    res = runner.run_chains(GAUSS, x0, params, 15, burn_in=14, seed=3)
    draws = res.position[:, -1, :]
    acc = res.acceptance_rate.mean()
    assert 0.2 < acc < 0.95  # the test must actually reject
    check_gaussian(draws, GAUSS.mu, GAUSS.cov, ess=K)
    if 0 < langevin_prob < 1:
        assert 0.4 < res.kernel.mean() < 0.6


def test_wrong_correction_would_be_detected() -> None:
    """Sanity check of the test's power: MALA without the MH correction is biased."""
    K = 20000
    rng = np.random.default_rng(12)
    x = rng.multivariate_normal(GAUSS.mu, GAUSS.cov, size=K)
    h, s = 0.6, 1.1
    for _ in range(15):  # unadjusted Langevin
        x = x + h * GAUSS(x).grad + s * rng.standard_normal(x.shape)
    with pytest.raises(AssertionError):
        check_gaussian(x, GAUSS.mu, GAUSS.cov, ess=K)


# ---------------------------------------------------------------- (c) MH ratio
@pytest.mark.parametrize("kernel", [0, 1])
def test_log_accept_ratio_matches_direct_computation(kernel: int) -> None:
    rng = np.random.default_rng(13)
    d = 5
    A = rng.normal(size=(d, d))
    target = Gaussian(rng.normal(size=d), A @ A.T + d * np.eye(d))
    # coordinate 3 is an "eta" (own scale, no drift), coordinate 1 is pruned
    params = mh.kernel_params(
        d, 0.7, langevin_step=0.3, noise_step=0.4, eta_index=3, mask=[1], langevin_prob=0.5
    )
    K = 6
    x = rng.normal(size=(K, d))
    x[:, 1] = 0.0
    state = mh.init(x, target)
    noise = mh.StepNoise(
        rng.standard_normal((K, d)), np.full(K, 0.25 if kernel else 0.75), rng.random(K)
    )
    _, info = mh.step(state, noise, target, params)
    assert np.all(info.kernel == kernel)
    prop = info.proposal
    assert np.all(prop[:, 1] == 0.0)
    free = np.array([0, 2, 3, 4])
    cov = np.diag(params.scale[free] ** 2)
    for k in range(K):
        lp_x, lp_p = target(x[k : k + 1]), target(prop[k : k + 1])
        if kernel:
            mean_fwd = x[k] + params.drift * lp_x.grad[0]
            mean_rev = prop[k] + params.drift * lp_p.grad[0]
            log_q = multivariate_normal.logpdf(x[k, free], mean_rev[free], cov)
            log_q -= multivariate_normal.logpdf(prop[k, free], mean_fwd[free], cov)
        else:
            log_q = 0.0
        expected = lp_p.logdensity[0] - lp_x.logdensity[0] + log_q
        np.testing.assert_allclose(info.log_accept_ratio[k], expected, rtol=1e-9, atol=1e-9)
        assert info.accepted[k] == (np.log(noise.u_accept[k]) < expected)


# ---------------------------------------------------------------- (a) linear regression
def test_bayesian_linear_regression_matches_closed_form() -> None:
    rng = np.random.default_rng(14)
    N, D, tau2, sigma2 = 60, 3, 0.25, 4.0
    X = rng.normal(size=(N, D))
    y = X @ np.array([0.5, -1.0, 0.3]) + 0.2 + rng.normal(size=N) * np.sqrt(tau2)
    spec = MLPSpec((D, 1), output_activation="identity")
    post = MLPPosterior(spec, X, y, "regression", sigma2=sigma2, noise="fixed", tau2=tau2)
    Zd = np.hstack([X, np.ones((N, 1))])  # flat layout: weight[0, :], then bias
    prec = Zd.T @ Zd / tau2 + np.eye(D + 1) / sigma2
    cov = np.linalg.inv(prec)
    mean = cov @ Zd.T @ y / tau2
    K = 16
    x0 = streams.initial_positions(post, K, seed=1, init="map", theta_map=mean, jitter=0.05)
    params = mh.kernel_params_for(post, 0.6 * np.sqrt(np.diag(cov)).min())
    res = runner.run_chains(post, x0, params, 3000, burn_in=500, seed=2)
    draws = res.theta
    ess = float(az.ess(az.convert_to_dataset(draws)).to_array().min())
    assert ess > 500
    check_gaussian(draws.reshape(-1, D + 1), mean, cov, ess)
    assert 0.3 < res.acceptance_rate.mean() < 0.99
    assert res.tau2 is None


# ---------------------------------------------------------------- (d) noise recovery
def test_tau2_recovered_on_synthetic_regression() -> None:
    rng = np.random.default_rng(15)
    spec = MLPSpec((2, 4, 1), "tanh")
    true = rng.normal(size=spec.n_params)
    X = rng.normal(size=(400, 2))
    f = forward(spec, torch.tensor(true), torch.tensor(X)).numpy()[:, 0]
    tau2_true = 0.04
    y = f + rng.normal(size=400) * np.sqrt(tau2_true)
    post = MLPPosterior(spec, X, y, "regression", nu1=2.0, nu2=0.1)
    x0 = streams.initial_positions(post, 4, seed=5, init="map", theta_map=true, jitter=0.01)
    params = mh.kernel_params_for(post, 0.01, noise_step=0.1)
    res = runner.run_chains(post, x0, params, 3000, burn_in=0.5, seed=6)
    tau2 = res.tau2
    assert tau2 is not None and tau2.shape == (4, 1500)
    ess = float(az.ess(tau2))
    se = tau2.std() / np.sqrt(max(ess, 10))
    # the posterior concentrates near the empirical residual variance (rel. sd sqrt(2/N) = 7%)
    assert abs(tau2.mean() - tau2_true) < Z * se + 3 * np.sqrt(2 / 400) * tau2_true
    assert 0.1 < res.acceptance_rate.mean() < 1.0


# ---------------------------------------------------------------- (e) seeds
def test_same_seed_same_draws_different_seed_different() -> None:
    x0 = np.zeros((3, 3))
    params = mh.kernel_params(3, 0.8)
    a = runner.run_chains(GAUSS, x0, params, 300, burn_in=0.2, thin=3, seed=7)
    b = runner.run_chains(GAUSS, x0, params, 300, burn_in=0.2, thin=3, seed=7)
    c = runner.run_chains(GAUSS, x0, params, 300, burn_in=0.2, thin=3, seed=8)
    for field in ("position", "logdensity", "loglik", "accepted", "kernel", "diverging"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.position, c.position)
    assert a.position.shape == (3, 80, 3)  # ceil((300 - 60) / 3)
    # chains differ from each other, and chain k does not depend on the number of chains
    assert not np.array_equal(a.position[0], a.position[1])
    two = runner.run_chains(GAUSS, x0[:2], params, 300, burn_in=0.2, thin=3, seed=7)
    np.testing.assert_array_equal(two.position, a.position[:2])


def test_initial_positions_prior_and_map() -> None:
    rng = np.random.default_rng(16)
    spec = MLPSpec((3, 4, 1))
    post = MLPPosterior(spec, rng.normal(size=(20, 3)), rng.normal(size=20), "regression", mask=[2])
    a = streams.initial_positions(post, 4, seed=1, init="prior")
    b = streams.initial_positions(post, 4, seed=1, init="prior")
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, post.dim) and np.all(a[:, 2] == 0.0)
    assert np.all(np.isfinite(a[:, -1]))
    m = np.ones(spec.n_params)
    c = streams.initial_positions(post, 2, seed=1, init="map", theta_map=m, jitter=1e-3, tau2=0.5)
    assert np.allclose(np.delete(c[:, :-1], 2, axis=1), 1.0, atol=0.01)
    np.testing.assert_allclose(c[:, -1], np.log(0.5))


# ---------------------------------------------------------------- (f) resume
class Kill(Exception):
    pass


def _regression_posterior() -> MLPPosterior:
    rng = np.random.default_rng(17)
    X = rng.normal(size=(50, 3))
    y = np.tanh(X[:, 0]) + 0.1 * rng.normal(size=50)
    return MLPPosterior(MLPSpec((3, 4, 1)), X, y, "regression")


@pytest.mark.parametrize("kill_at", [137, 290])
def test_resume_after_kill_gives_identical_samples(tmp_path, kill_at: int) -> None:
    post = _regression_posterior()
    x0 = streams.initial_positions(post, 3, seed=1)
    params = mh.kernel_params_for(post, 0.02, 0.1)
    kw = {"burn_in": 0.3, "thin": 3, "seed": 9}
    full = runner.run_chains(post, x0, params, 400, **kw)

    def killer(p: trace.Progress) -> None:
        if p.iteration == kill_at:
            raise Kill

    ck = tmp_path / "chain.ckpt.npz"
    with pytest.raises(Kill):
        runner.run_chains(
            post, x0, params, 400, checkpoint=ck, checkpoint_every=50,
            progress=killer, progress_every_s=0.0, **kw,
        )  # fmt: skip
    assert ck.exists()
    seen = []
    resumed = runner.run_chains(
        post, x0, params, 400, checkpoint=ck, checkpoint_every=50,
        progress=lambda p: seen.append(p.iteration), progress_every_s=0.0, **kw,
    )  # fmt: skip
    assert seen[0] == (kill_at // 50) * 50 + 1  # really resumed, not restarted
    for field in ("position", "logdensity", "loglik", "accepted", "kernel", "diverging"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(full, field))
    np.testing.assert_array_equal(resumed.acceptance_rate, full.acceptance_rate)
    np.testing.assert_array_equal(resumed.final_state.position, full.final_state.position)
    # a checkpoint from another run is ignored
    other = runner.run_chains(post, x0, params, 400, checkpoint=ck, **{**kw, "seed": 10})
    assert not np.array_equal(other.position, full.position)


# ---------------------------------------------------------------- (g) masks
def test_masked_coordinates_stay_exactly_zero() -> None:
    rng = np.random.default_rng(18)
    spec = MLPSpec((4, 6, 3))
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    mask = [0, 7, 24, 30, spec.n_params - 1]
    post = MLPPosterior(spec, X, y, "classification", mask=mask)
    x0 = rng.normal(size=(4, post.dim))  # garbage at pruned positions is zeroed by the runner
    params = mh.kernel_params_for(post, 0.05, langevin_prob=0.5)
    assert np.all(params.scale[mask] == 0) and np.all(params.drift[mask] == 0)
    res = runner.run_chains(post, x0, params, 200, burn_in=0, seed=1)
    assert np.all(res.theta[..., mask] == 0.0)
    assert np.all(res.final_state.grad[:, mask] == 0.0)
    assert res.accepted.any()


# ---------------------------------------------------------------- (h) divergences
def test_nonfinite_proposal_rejected_and_counted() -> None:
    class Cliff(Gaussian):
        def __call__(self, x: np.ndarray) -> LogDensity:
            out = super().__call__(x)
            lp = np.where(x[:, 0] > 1.0, np.nan, out.logdensity)
            grad = out.grad.copy()
            grad[x[:, 1] < -2.5] = np.inf
            return LogDensity(lp, grad, lp)

    target = Cliff(np.zeros(2), np.eye(2))
    params = mh.kernel_params(2, 1.0)
    res = runner.run_chains(target, np.zeros((8, 2)), params, 400, burn_in=0, seed=2)
    assert res.n_diverging.sum() > 0
    assert res.diverging.sum() > 0
    assert not np.any(res.accepted & res.diverging)
    assert np.all(np.isfinite(res.position)) and np.all(res.position[..., 0] <= 1.0)
    assert np.all(res.position[..., 1] >= -2.5)


def test_init_rejects_nonfinite_start_and_burn_in_validation() -> None:
    with pytest.raises(ValueError):
        mh.init(np.array([[np.nan, 0.0, 0.0]]), GAUSS)
    assert trace.burn_in_count(100, 0.5) == 50
    assert trace.burn_in_count(100, 10) == 10
    with pytest.raises(ValueError):
        trace.burn_in_count(100, 100)


def test_logging_progress(caplog) -> None:
    import logging

    logger = logging.getLogger("bayesprune.test_sampler")
    params = mh.kernel_params(3, 0.5)
    with caplog.at_level(logging.INFO, logger=logger.name):
        runner.run_chains(GAUSS, np.zeros((2, 3)), params, 20, seed=1, logger=logger)
    assert any("chain-it/s" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- (i) step-size adaptation
GAUSS10 = Gaussian(
    np.linspace(-1.0, 1.0, 10),
    0.5 * np.eye(10) + 0.5 * np.full((10, 10), 0.6) + np.diag(np.linspace(0.1, 2.0, 10)),
)


@pytest.mark.parametrize("step_size", [1e-3, 50.0])  # far too small, far too large
@pytest.mark.parametrize("target_accept", [0.3, 0.6])
def test_adaptation_reaches_target_acceptance(step_size: float, target_accept: float) -> None:
    K = 8
    params = mh.kernel_params(10, step_size, langevin_prob=0.5)
    fixed = runner.run_chains(GAUSS10, np.zeros((K, 10)), params, 1200, burn_in=600, seed=4)
    res = runner.run_chains(
        GAUSS10, np.zeros((K, 10)), params, 1200, burn_in=600, seed=4,
        adapt=True, target_accept=target_accept,
    )  # fmt: skip
    assert abs(fixed.acceptance_rate.mean() - target_accept) > 0.25  # the start is bad
    # pooled post-burn-in acceptance near the target (8 x 600 correlated Bernoullis)
    assert abs(res.acceptance_rate.mean() - target_accept) < 0.1
    assert np.all(np.abs(res.acceptance_rate - target_accept) < 0.2)
    assert res.step_scale is not None and res.step_scale.shape == (K,)
    assert res.target_accept == target_accept
    np.testing.assert_allclose(res.adapted_step_size, res.step_scale * step_size)
    # every chain lands on (about) the same step, whatever the start
    assert np.ptp(np.log(res.adapted_step_size)) < np.log(2.0)
    assert fixed.step_scale is None and fixed.adapted_step_size is None


def test_adapted_kernel_is_frozen_after_burn_in() -> None:
    """The kept draws are exactly a fixed kernel's: replay them step by step with
    ``params.scaled(step_scale)`` and the same noise stream."""
    K, n_iter, n_burn, seed = 3, 700, 300, 5  # burn-in ends inside a noise block
    params = mh.kernel_params(3, 20.0, langevin_step=50.0, langevin_prob=0.5)
    res = runner.run_chains(
        GAUSS, np.zeros((K, 3)), params, n_iter, burn_in=n_burn, seed=seed, adapt=True
    )
    assert res.step_scale is not None and np.all(res.step_scale < 0.2)
    frozen = params.scaled(res.step_scale)
    assert frozen.scale.shape == (K, 3)
    assert np.allclose(frozen.scale, res.step_scale[:, None] * 20.0, rtol=1e-12)
    assert np.allclose(frozen.drift, res.step_scale[:, None] ** 2 * 50.0, rtol=1e-12)
    gens = streams.generators(seed, K)
    blocks = [streams.draw_block(gens, 3, streams.BLOCK_SIZE) for _ in range(3)]

    def noise(i: int) -> mh.StepNoise:
        b, j = blocks[i // streams.BLOCK_SIZE], i % streams.BLOCK_SIZE
        return mh.StepNoise(b.normal[:, j], b.u_kernel[:, j], b.u_accept[:, j])

    state = mh.init(res.position[:, 0], GAUSS)  # after iteration n_burn
    for i in range(n_burn + 1, n_iter):
        state, info = mh.step(state, noise(i), GAUSS, frozen)
        s = i - n_burn
        np.testing.assert_array_equal(state.position, res.position[:, s])
        np.testing.assert_array_equal(info.accepted, res.accepted[:, s])


def test_scaled_per_chain_kernel_leaves_gaussian_invariant() -> None:
    K = 20000
    rng = np.random.default_rng(19)
    x0 = rng.multivariate_normal(GAUSS.mu, GAUSS.cov, size=K)
    base = mh.kernel_params(3, 1.0, langevin_step=0.4, langevin_prob=0.5)
    params = base.scaled(np.exp(rng.uniform(-1.0, 0.5, K)))  # a different kernel per chain
    state = mh.init(x0, GAUSS)
    acc = 0.0
    for _ in range(12):
        noise = mh.StepNoise(rng.standard_normal((K, 3)), rng.random(K), rng.random(K))
        state, info = mh.step(state, noise, GAUSS, params)
        acc += info.accepted.mean() / 12
    assert 0.2 < acc < 0.95
    check_gaussian(state.position, GAUSS.mu, GAUSS.cov, ess=K)


def test_adapted_chains_sample_the_target() -> None:
    """Long run from a far-too-large step: the kept draws match N(mu, Sigma) within ESS-based
    Monte Carlo error."""
    K = 16
    params = mh.kernel_params(3, 30.0, langevin_prob=0.5)
    res = runner.run_chains(GAUSS, np.zeros((K, 3)), params, 4000, burn_in=1000, seed=6, adapt=True)
    ess = float(az.ess(az.convert_to_dataset(res.position)).to_array().min())
    assert ess > 1000
    check_gaussian(res.position.reshape(-1, 3), GAUSS.mu, GAUSS.cov, ess)
    assert abs(res.acceptance_rate.mean() - 0.5) < 0.1


def test_adaptation_same_seed_same_draws_and_chains_independent_of_k() -> None:
    params = mh.kernel_params(3, 0.01)
    kw = {"burn_in": 0.4, "thin": 2, "seed": 7, "adapt": True}
    a = runner.run_chains(GAUSS, np.zeros((3, 3)), params, 400, **kw)
    b = runner.run_chains(GAUSS, np.zeros((3, 3)), params, 400, **kw)
    for field in ("position", "logdensity", "accepted", "kernel", "step_scale"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    two = runner.run_chains(GAUSS, np.zeros((2, 3)), params, 400, **kw)
    np.testing.assert_array_equal(two.position, a.position[:2])
    np.testing.assert_array_equal(two.step_scale, a.step_scale[:2])
    plain = runner.run_chains(GAUSS, np.zeros((3, 3)), params, 400, **{**kw, "adapt": False})
    assert not np.array_equal(plain.position, a.position)


@pytest.mark.parametrize("kill_at", [77, 290])  # during burn-in (120 iterations), after
def test_resume_after_kill_with_adaptation(tmp_path, kill_at: int) -> None:
    post = _regression_posterior()
    x0 = streams.initial_positions(post, 3, seed=1)
    params = mh.kernel_params_for(post, 0.2, 0.5)
    kw = {"burn_in": 0.3, "thin": 3, "seed": 9, "adapt": True, "target_accept": 0.4}
    full = runner.run_chains(post, x0, params, 400, **kw)

    def killer(p: trace.Progress) -> None:
        if p.iteration == kill_at:
            raise Kill

    ck = tmp_path / "chain.ckpt.npz"
    with pytest.raises(Kill):
        runner.run_chains(
            post, x0, params, 400, checkpoint=ck, checkpoint_every=25,
            progress=killer, progress_every_s=0.0, **kw,
        )  # fmt: skip
    seen: list[trace.Progress] = []
    resumed = runner.run_chains(
        post, x0, params, 400, checkpoint=ck, checkpoint_every=25,
        progress=seen.append, progress_every_s=0.0, **kw,
    )  # fmt: skip
    assert seen[0].iteration == (kill_at // 25) * 25 + 1  # really resumed
    assert seen[0].step_scale is not None
    for field in ("position", "logdensity", "loglik", "accepted", "kernel", "diverging"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(full, field))
    np.testing.assert_array_equal(resumed.step_scale, full.step_scale)
    np.testing.assert_array_equal(resumed.acceptance_rate, full.acceptance_rate)
    np.testing.assert_array_equal(resumed.final_state.position, full.final_state.position)
    # the reported factor is constant after burn-in
    after = np.array([p.step_scale for p in seen if p.iteration >= 120])
    np.testing.assert_array_equal(after, np.broadcast_to(full.step_scale, after.shape))
    # a checkpoint of the same run without adaptation (or another target) is not used
    for other in ({"adapt": False}, {"target_accept": 0.6}):
        seen.clear()
        runner.run_chains(
            post, x0, params, 400, checkpoint=ck, progress=seen.append,
            progress_every_s=0.0, **{**kw, **other},
        )  # fmt: skip
        assert seen[0].iteration == 1


def test_adaptation_validation_and_records(caplog) -> None:
    import logging

    from bayesprune.posterior import build_inference_data

    params = mh.kernel_params(3, 0.5)
    with pytest.raises(ValueError, match="burn-in"):
        runner.run_chains(GAUSS, np.zeros((2, 3)), params, 20, burn_in=0, adapt=True)
    with pytest.raises(ValueError, match="target_accept"):
        runner.run_chains(GAUSS, np.zeros((2, 3)), params, 20, adapt=True, target_accept=1.0)
    # per-chain kernel params need one row per chain
    with pytest.raises(ValueError, match="rows"):
        runner.run_chains(GAUSS, np.zeros((2, 3)), params.scaled(np.ones(3)), 20)
    logger = logging.getLogger("bayesprune.test_sampler")
    with caplog.at_level(logging.INFO, logger=logger.name):
        runner.run_chains(GAUSS, np.zeros((2, 3)), params, 20, logger=logger, adapt=True)
    assert any("step scale" in r.getMessage() for r in caplog.records)
    # posterior attributes record the frozen steps (theta and eta)
    post = _regression_posterior()
    x0 = streams.initial_positions(post, 2, seed=1)
    kp = mh.kernel_params_for(post, 0.05, 0.3)
    res = runner.run_chains(post, x0, kp, 60, burn_in=0.5, seed=3, adapt=True)
    attrs = build_inference_data(res, post.spec, "regression").posterior.attrs
    assert attrs["target_accept"] == 0.5
    np.testing.assert_allclose(json.loads(attrs["step_scale"]), res.step_scale)
    np.testing.assert_allclose(json.loads(attrs["adapted_step_size"]), 0.05 * res.step_scale)
    np.testing.assert_allclose(json.loads(attrs["adapted_noise_step"]), 0.3 * res.step_scale)
    plain = runner.run_chains(post, x0, kp, 60, burn_in=0.5, seed=3)
    assert "step_scale" not in build_inference_data(plain, post.spec, "regression").posterior.attrs


# ---------------------------------------------------------------- per-chain masks (one run per chain)
def test_per_chain_masks_match_each_chains_own_posterior_and_stay_zero() -> None:
    rng = np.random.default_rng(8)
    spec = MLPSpec((3, 5, 1), "sigmoid")
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    P = spec.n_params
    masks = np.zeros((4, P), dtype=bool)
    for k in range(4):
        masks[k, rng.choice(P, 4 + 2 * k, replace=False)] = True
    batched = MLPPosterior(spec, X, y, "regression", mask=masks)
    x = rng.normal(size=(4, P + 1))
    value = batched(x)
    for k in range(4):
        own = MLPPosterior(spec, X, y, "regression", mask=np.flatnonzero(masks[k]))(x[k : k + 1])
        np.testing.assert_allclose(value.logdensity[k], own.logdensity[0], rtol=1e-12)
        np.testing.assert_allclose(value.grad[k], own.grad[0], rtol=1e-10, atol=1e-10)
    params = mh.kernel_params_for(batched, 0.05, 0.2)
    assert params.scale.shape == (4, P + 1)
    assert np.all(params.scale[:, :P][masks] == 0) and np.all(params.scale[:, :P][~masks] > 0)
    x0 = streams.initial_positions(batched, 4, seed=3, init="prior")
    result = runner.run_chains(batched, x0, params, 400, burn_in=0.5, seed=3, adapt=True)
    theta = result.theta
    for k in range(4):
        assert np.all(theta[k][:, masks[k]] == 0.0)  # exactly 0 in every kept draw
        assert np.all(np.ptp(theta[k][:, ~masks[k]], axis=0) > 0)  # the rest moves
    with pytest.raises(ValueError, match="rows"):
        batched(x[:3])


# ---------------------------------------------------------------- diagonal metric
STRETCHED = Gaussian([3.0, -1.0, 0.0, 2.0], np.diag([100.0, 1.0, 0.01, 4.0]))


def test_diagonal_metric_learns_the_scales_and_samples_the_target() -> None:
    """A badly scaled Gaussian (sd 10 to 0.1): the frozen metric's variances match the target's
    within the estimate's Monte Carlo error, and the kept draws match N(mu, Sigma) within
    ESS-based error; the identity kernel at the same budget mixes far worse."""
    K = 8
    params = mh.kernel_params(4, 0.5, langevin_prob=1.0)
    kw = {"burn_in": 2000, "seed": 11, "adapt": True, "target_accept": 0.57}
    res = runner.run_chains(STRETCHED, np.zeros((K, 4)), params, 6000, metric="diagonal", **kw)
    true_var = np.diag(STRETCHED.cov)
    assert res.metric is not None and res.metric.shape == (K, 4)
    # the last window holds about 1,000 correlated draws: its variance is good to ~25%
    ratio = res.metric / true_var
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    scale = np.asarray(res.params["scale"])
    assert scale.shape == (K, 4)  # per-chain preconditioned kernel, proportional to the sd
    np.testing.assert_allclose(scale / scale[:, :1], np.sqrt(res.metric / res.metric[:, :1]))
    np.testing.assert_allclose(np.asarray(res.params["drift"]), scale**2 / 2, rtol=1e-12)
    ess_metric = az.ess(az.convert_to_dataset(res.position)).to_array().values
    check_gaussian(res.position.reshape(-1, 4), STRETCHED.mu, STRETCHED.cov, ess_metric.min())
    plain = runner.run_chains(STRETCHED, np.zeros((K, 4)), params, 6000, **kw)
    ess_plain = az.ess(az.convert_to_dataset(plain.position)).to_array().values
    assert ess_metric.min() > 5 * ess_plain.min(), (ess_metric, ess_plain)


def test_diagonal_metric_keeps_pruned_coordinates_and_eta_random_walk() -> None:
    post = _regression_posterior()
    pruned = MLPPosterior(post.spec, post.X, post.y, "regression", mask=[0, 3])
    x0 = streams.initial_positions(pruned, 2, seed=1)
    kp = mh.kernel_params_for(pruned, 0.05, 0.3)
    res = runner.run_chains(pruned, x0, kp, 600, burn_in=300, seed=3, adapt=True, metric="diagonal")
    scale, drift = np.asarray(res.params["scale"]), np.asarray(res.params["drift"])
    assert np.all(scale[:, [0, 3]] == 0) and np.all(res.position[:, :, [0, 3]] == 0)
    assert np.all(scale[:, pruned.eta_index] > 0) and np.all(drift[:, pruned.eta_index] == 0)


def test_diagonal_metric_resumes_exactly_and_is_validated(tmp_path) -> None:
    post = _regression_posterior()
    x0 = streams.initial_positions(post, 3, seed=1)
    params = mh.kernel_params_for(post, 0.2, 0.5)
    kw = {"burn_in": 200, "thin": 2, "seed": 5, "adapt": True, "metric": "diagonal"}
    full = runner.run_chains(post, x0, params, 400, **kw)

    def killer(p: trace.Progress) -> None:
        if p.iteration == 130:  # inside a metric window
            raise Kill

    ck = tmp_path / "chain.ckpt.npz"
    with pytest.raises(Kill):
        runner.run_chains(
            post, x0, params, 400, checkpoint=ck, checkpoint_every=20,
            progress=killer, progress_every_s=0.0, **kw,
        )  # fmt: skip
    seen: list[trace.Progress] = []
    resumed = runner.run_chains(
        post, x0, params, 400, checkpoint=ck, checkpoint_every=20,
        progress=seen.append, progress_every_s=0.0, **kw,
    )  # fmt: skip
    assert seen[0].iteration == 121
    np.testing.assert_array_equal(resumed.position, full.position)
    np.testing.assert_array_equal(resumed.metric, full.metric)
    # an identity-metric checkpoint of the same run is not used
    seen.clear()
    runner.run_chains(
        post, x0, params, 400, checkpoint=ck, progress=seen.append, progress_every_s=0.0,
        **{**kw, "metric": "identity"},
    )  # fmt: skip
    assert seen[0].iteration == 1
    with pytest.raises(ValueError, match="adapt=True"):
        runner.run_chains(post, x0, params, 40, metric="diagonal")
    with pytest.raises(ValueError, match="too short"):
        runner.run_chains(post, x0, params, 40, burn_in=2, adapt=True, metric="diagonal")
    with pytest.raises(ValueError, match="identity or diagonal"):
        runner.run_chains(post, x0, params, 40, adapt=True, metric="dense")
