"""The authors' network, target and proposal (bayesprune.authors), against hand computations."""

import math

import numpy as np
import pytest
from scipy.special import expit

from bayesprune import authors
from bayesprune.likelihoods import MLPPosterior, PriorSettings
from bayesprune.mcmc import kernel as mh
from bayesprune.mcmc import runner, sgd_epoch
from bayesprune.networks import MLPSpec, forward_numpy


def _spec(out="identity", sizes=(3, 2, 2)):
    return MLPSpec(sizes, "sigmoid", out)


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def their_forward(spec: MLPSpec, w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The authors' forward pass of one vector ``w`` in *their* layout: ``(N, C_out)`` sigmoid
    outputs, ``z1 = x W1 - b1``, ``z2 = sigmoid(z1) W2 - b2`` (the reference for the layout)."""
    D, H, C_out = authors.check_network(spec)
    W1 = w[: D * H].reshape(D, H)
    W2 = w[D * H : D * H + H * C_out].reshape(H, C_out)
    b1 = w[D * H + H * C_out : D * H + H * C_out + H]
    b2 = w[D * H + H * C_out + H :]
    return expit(expit(X @ W1 - b1) @ W2 - b2)


def test_forward_is_the_hand_computation_in_their_layout():
    spec = _spec("sigmoid", (2, 2, 1))
    # their layout: W1 (2 inputs x 2 hidden, input-major), W2 (2 x 1), b1 (2), b2 (1)
    w = np.array([0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 0.1, -0.2, 0.3])
    x = np.array([[1.0, 2.0]])
    h0 = _sig(1.0 * 0.5 + 2.0 * 2.0 - 0.1)  # z1 = x W1 - b1
    h1 = _sig(1.0 * -1.0 + 2.0 * 0.25 + 0.2)
    expected = _sig(h0 * 1.5 + h1 * -0.5 - 0.3)  # z2 = h W2 - b2, sigmoid output
    assert their_forward(spec, w, x)[0, 0] == pytest.approx(expected, abs=1e-12)
    # the same network in our layout (biases added, W (out, in)) gives the same output
    ours = authors.from_theirs(spec, w)
    np.testing.assert_allclose(forward_numpy(spec, ours, x), their_forward(spec, w, x))
    np.testing.assert_allclose(authors.to_theirs(spec, ours), w)


def test_first_k_rnd_prunes_the_first_entries_of_their_layout():
    spec = _spec("identity", (3, 2, 2))  # P = 6 + 2 + 4 + 2 = 14
    scores = authors.rnd_first_k_scores(spec)
    index, _ = authors.their_order(spec)
    first5 = np.sort(np.argsort(scores, kind="stable")[:5])
    np.testing.assert_array_equal(first5, np.sort(index[:5]))
    names = spec.param_names()
    # their first entries are W1[0, :] then W1[1, :]: input 0's weights into every hidden unit
    assert [names[i] for i in index[:3]] == [
        "layer0.weight[0,0]",
        "layer0.weight[1,0]",
        "layer0.weight[0,1]",
    ]


def _their_epoch(spec, w, X, T, lr):
    """One epoch of per-example SGD in their layout, written from SPEC's description."""
    D, H, C_out = spec.sizes
    w = w.copy()
    W1 = w[: D * H].reshape(D, H)
    W2 = w[D * H : D * H + H * C_out].reshape(H, C_out)
    b1 = w[D * H + H * C_out : D * H + H * C_out + H]
    b2 = w[D * H + H * C_out + H :]
    for x, t in zip(X, T, strict=True):
        h = 1 / (1 + np.exp(-(x @ W1 - b1)))
        out = 1 / (1 + np.exp(-(h @ W2 - b2)))
        d_out = (t - out) * out * (1 - out)
        d_hid = (d_out @ W2.T) * h * (1 - h)
        W2 += lr * np.outer(h, d_out)
        b2 -= lr * d_out
        W1 += lr * np.outer(x, d_hid)
        b1 -= lr * d_hid
    return np.concatenate([W1.ravel(), W2.ravel(), b1, b2])


def test_sgd_epoch_matches_their_per_example_updates():
    rng = np.random.default_rng(0)
    spec = _spec("identity", (3, 4, 2))
    X = rng.normal(size=(7, 3))
    T = np.eye(2)[rng.integers(0, 2, 7)]
    w = rng.normal(size=(2, spec.n_params))
    ours = authors.from_theirs(spec, w)
    out = authors.sgd_epochs(ours, X, T, 4, 0.01, np.ones_like(ours))
    for k in range(2):
        np.testing.assert_allclose(
            authors.to_theirs(spec, out[k]), _their_epoch(spec, w[k], X, T, 0.01), atol=1e-12
        )
    frozen = np.ones_like(ours)
    frozen[:, [0, 5]] = 0.0
    held = authors.sgd_epochs(ours, X, T, 4, 0.01, frozen)
    np.testing.assert_array_equal(held[:, [0, 5]], ours[:, [0, 5]])


def test_classification_likelihood_is_softmax_over_sigmoid_outputs():
    rng = np.random.default_rng(1)
    spec = _spec("identity", (3, 4, 2))
    X, y = rng.normal(size=(9, 3)), rng.integers(0, 2, 9)
    theta = rng.normal(size=(2, spec.n_params)) * 3
    post = authors.AuthorsPosterior(spec, X, y, "classification", sigma2=25.0)
    lp, ll = post.value(theta)
    for k in range(2):
        s = their_forward(spec, authors.to_theirs(spec, theta[k]), X)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        assert ll[k] == pytest.approx(np.log(p[np.arange(9), y]).sum(), rel=1e-12)
        assert p.max() <= math.e / (math.e + 1) + 1e-12  # the cap: 0.73 for 2 classes
    # with softmax over logits it is our categorical likelihood
    mine = authors.AuthorsPosterior(
        spec, X, y, "classification", classification="softmax_logits", sigma2=25.0
    )
    np.testing.assert_allclose(
        mine(theta).logdensity, MLPPosterior(spec, X, y, "classification")(theta).logdensity
    )


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_gradient_matches_finite_differences(task):
    rng = np.random.default_rng(2)
    sizes = (3, 4, 1) if task == "regression" else (3, 4, 3)
    spec = _spec("sigmoid" if task == "regression" else "identity", sizes)
    X = rng.normal(size=(11, 3))
    y = rng.random(11) if task == "regression" else rng.integers(0, 3, 11)
    post = authors.AuthorsPosterior(spec, X, y, task, sigma2=4.0, nu1=0.0, nu2=0.0)
    x = rng.normal(size=(1, post.dim))
    value = post(x)
    eps = 1e-6
    for i in range(post.dim):
        e = np.zeros_like(x)
        e[0, i] = eps
        num = (post(x + e).logdensity[0] - post(x - e).logdensity[0]) / (2 * eps)
        assert value.grad[0, i] == pytest.approx(num, rel=1e-5, abs=1e-6)


def test_eta_prior_without_the_jacobian_adds_minus_eta():
    rng = np.random.default_rng(3)
    spec = _spec("sigmoid", (2, 3, 1))
    X, y = rng.normal(size=(5, 2)), rng.random(5)
    x = rng.normal(size=(2, spec.n_params + 1))
    kw = dict(sigma2=25.0, nu1=0.0, nu2=0.0)
    theirs = authors.AuthorsPosterior(spec, X, y, "regression", eta_jacobian=False, **kw)
    ours = MLPPosterior(spec, X, y, "regression", **kw)
    np.testing.assert_allclose(theirs.value(x)[0], ours(x).logdensity - x[:, -1])
    jac = authors.AuthorsPosterior(spec, X, y, "regression", eta_jacobian=True, **kw)
    np.testing.assert_allclose(jac.value(x)[0], ours(x).logdensity)


def _setup(task="regression"):
    rng = np.random.default_rng(4)
    spec = _spec("sigmoid", (2, 3, 1))
    X, y = rng.normal(size=(6, 2)), rng.random(6)
    post = authors.AuthorsPosterior(spec, X, y, task, sigma2=25.0, nu1=0.0, nu2=0.0)
    x0 = np.hstack([rng.normal(size=(3, spec.n_params)), np.full((3, 1), -2.0)])
    return spec, post, x0


def _noise(K, d, seed=5, lang=True):
    rng = np.random.default_rng(seed)
    u = np.zeros(K) if lang else np.ones(K)
    return mh.StepNoise(rng.normal(size=(K, d)), u, rng.random(K))


@pytest.mark.parametrize("q_ratio", ["authors", "exact"])
def test_langevin_step_uses_their_q_ratio(q_ratio):
    spec, post, x0 = _setup()
    s = 0.025
    kernel = sgd_epoch.KernelSettings(step_size=s, q_ratio=q_ratio)
    free = np.ones((3, spec.n_params))
    state = sgd_epoch.init(x0, post, free)
    noise = _noise(3, post.dim)
    _, info = sgd_epoch.step(state, noise, post, kernel)
    T = post.sgd_targets()
    P = spec.n_params
    w = x0[:, :P]
    w_gd = authors.sgd_epochs(w, post._X64, T, 3, 0.01, free)
    prop = w_gd + s * noise.normal[:, :P]
    np.testing.assert_allclose(info.proposal[:, :P], prop)
    back = authors.sgd_epochs(prop, post._X64, T, 3, 0.01, free)
    var = s if q_ratio == "authors" else s**2  # theirs: 0.025 used as a variance
    log_q = -0.5 * ((w - back) ** 2).sum(1) / var + 0.5 * ((prop - w_gd) ** 2).sum(1) / var
    lp_new, _ = post.value(info.proposal)
    np.testing.assert_allclose(info.log_accept_ratio, lp_new - state.logdensity + log_q)
    assert info.kernel.tolist() == [1, 1, 1]


def test_random_walk_step_has_ratio_zero_and_moves_eta():
    spec, post, x0 = _setup()
    kernel = sgd_epoch.KernelSettings(step_size=0.025, noise_step=0.2)
    state = sgd_epoch.init(x0, post, np.ones((3, spec.n_params)))
    noise = _noise(3, post.dim, lang=False)
    _, info = sgd_epoch.step(state, noise, post, kernel)
    np.testing.assert_allclose(
        info.proposal, x0 + np.hstack([0.025 * noise.normal[:, :-1], 0.2 * noise.normal[:, -1:]])
    )
    np.testing.assert_allclose(
        info.log_accept_ratio, post.value(info.proposal)[0] - state.logdensity
    )


def test_mask_by_value_leaves_w_gd_unmasked_in_the_ratio():
    spec, post, x0 = _setup()
    P = spec.n_params
    x0[:, [0, 4]] = 0.0  # the zeros of the start are the mask
    by_value = sgd_epoch.KernelSettings(mask="by_value")
    free = sgd_epoch.free_coordinates(post, x0, "by_value")
    assert free[:, [0, 4]].sum() == 0 and free.sum() == 3 * (P - 2)
    state = sgd_epoch.init(x0, post, free)
    noise = _noise(3, post.dim)
    _, info = sgd_epoch.step(state, noise, post, by_value)
    assert np.all(info.proposal[:, [0, 4]] == 0.0)
    w = x0[:, :P]
    ones = np.ones_like(free)
    w_gd = authors.sgd_epochs(w, post._X64, post.sgd_targets(), 3, 0.01, ones)  # moves them
    assert np.all(w_gd[:, [0, 4]] != 0.0)
    back = (
        authors.sgd_epochs(info.proposal[:, :P], post._X64, post.sgd_targets(), 3, 0.01, ones)
        * free
    )
    log_q = (
        -0.5 * ((w - back) ** 2).sum(1) + 0.5 * ((info.proposal[:, :P] - w_gd) ** 2).sum(1)
    ) / 0.025
    np.testing.assert_allclose(
        info.log_accept_ratio, post.value(info.proposal)[0] - state.logdensity + log_q
    )


def test_run_chains_keeps_an_index_mask_at_zero_and_matches_its_streams():
    spec, post, x0 = _setup()
    chain_mask = np.zeros((3, spec.n_params), dtype=bool)
    chain_mask[1, [2, 3]] = True
    masked = authors.AuthorsPosterior(
        spec, post.X, post.y, "regression", sigma2=25.0, nu1=0.0, nu2=0.0, mask=chain_mask
    )
    kernel = sgd_epoch.KernelSettings(mask="index")
    res = runner.run_chains(masked, x0, kernel, 60, burn_in=0.5, seed=3)
    assert res.theta.shape == (3, 30, spec.n_params)
    assert np.all(res.theta[1][:, [2, 3]] == 0.0)
    assert np.all(res.acceptance_rate > 0)
    full = runner.run_chains(post, x0, kernel, 60, burn_in=0.5, seed=3)
    alone = runner.run_chains(post, x0[:1], kernel, 60, burn_in=0.5, seed=3)
    np.testing.assert_array_equal(alone.position[0], full.position[0])  # chain 0's stream


def test_adaptation_moves_the_acceptance_towards_its_target():
    spec, post, x0 = _setup()
    kernel = sgd_epoch.KernelSettings(step_size=2.0, q_ratio="exact")
    fixed = runner.run_chains(post, x0, kernel, 400, burn_in=0.5, seed=1)
    tuned = runner.run_chains(post, x0, kernel, 400, burn_in=0.5, seed=1, adapt=True)
    assert tuned.step_scale is not None and np.all(tuned.step_scale < 1)
    assert tuned.acceptance_rate.mean() > fixed.acceptance_rate.mean()


def test_network_must_have_one_sigmoid_hidden_layer():
    with pytest.raises(ValueError, match="one sigmoid hidden layer"):
        authors.check_network(MLPSpec((3, 4, 4, 1), "sigmoid", "sigmoid"))
    with pytest.raises(ValueError, match="one sigmoid hidden layer"):
        authors.check_network(MLPSpec((3, 4, 1), "tanh", "sigmoid"))


def test_build_target_picks_ours_unless_a_choice_is_theirs():
    spec = _spec("sigmoid", (2, 3, 1))
    X, y = np.zeros((4, 2)), np.zeros(4)
    ours = authors.build_target(spec, X, y, "regression", prior=PriorSettings(eta_jacobian=True))
    assert type(ours) is MLPPosterior
    theirs = authors.build_target(spec, X, y, "regression", prior=PriorSettings(eta_jacobian=False))
    assert isinstance(theirs, authors.AuthorsPosterior) and not theirs.eta_jacobian
    kern = authors.build_target(
        spec, X, y, "regression", prior=PriorSettings(), authors_kernel=True
    )
    assert isinstance(kern, authors.AuthorsPosterior) and kern.eta_jacobian
