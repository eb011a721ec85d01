"""Log posterior of the flat-vector MLP: values and hand-written gradient vs torch.autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bayesprune.likelihoods import (
    MLPPosterior,
    PriorSettings,
    build_posterior,
    torch_sigmoid_pays,
)
from bayesprune.networks import MLPSpec, forward

torch.set_num_threads(1)


def reference(post: MLPPosterior, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log posterior, its gradient and the log likelihood via torch autograd (float64)."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    theta = xt[:, : post.n_params].clone()
    if post.mask.size:
        theta[:, torch.as_tensor(post.mask)] = 0.0
    out = forward(post.spec, theta, torch.tensor(post.X, dtype=torch.float64))
    if post.task == "regression":
        if post.has_eta:
            eta = xt[:, -1]
        else:
            eta = torch.full((x.shape[0],), math.log(post.tau2), dtype=torch.float64)
        y = torch.tensor(post.y, dtype=torch.float64)
        sd = torch.exp(0.5 * eta)[:, None]
        loglik = torch.distributions.Normal(out[..., 0], sd).log_prob(y).sum(-1)
        if post.has_eta:
            log_prior_eta = post._ig_const - post.nu1 * eta - post.nu2 * torch.exp(-eta)
        else:
            log_prior_eta = 0.0
    else:
        labels = torch.as_tensor(post.y)[None, :, None].expand(x.shape[0], -1, 1)
        loglik = torch.log_softmax(out, -1).gather(-1, labels).squeeze(-1).sum(-1)
        log_prior_eta = 0.0
    kept = np.setdiff1d(np.arange(post.n_params), post.mask)
    sd0 = torch.tensor(math.sqrt(post.sigma2), dtype=torch.float64)
    log_prior = torch.distributions.Normal(0.0, sd0).log_prob(theta[:, kept]).sum(-1)
    lp = loglik + log_prior + log_prior_eta
    (grad,) = torch.autograd.grad(lp.sum(), xt)
    return lp.detach().numpy(), grad.numpy(), loglik.detach().numpy()


CASES = [
    # sizes, task, hidden, output, mask, K, noise
    ((8, 12, 1), "regression", "sigmoid", "identity", None, 4, "sampled"),
    ((8, 12, 1), "regression", "tanh", "sigmoid", [0, 5, 100], 3, "sampled"),
    ((3, 5, 1), "regression", "relu", "identity", None, 7, "fixed"),
    ((4, 12, 3), "classification", "sigmoid", "identity", None, 16, None),
    ((4, 12, 3), "classification", "tanh", "identity", [1, 2, 60], 2, None),
    ((4, 6, 5, 3), "classification", "relu", "identity", [3, 7], 6, None),
    ((4, 6, 5, 3), "classification", "sigmoid", "identity", None, 2, None),
    ((3, 1), "regression", "sigmoid", "identity", None, 5, "sampled"),
]


@pytest.mark.parametrize("path", ["compiled", "numpy", "torch"])
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_matches_autograd(case: tuple, path: str) -> None:
    sizes, task, hidden, output, mask, K, noise = case
    rng = np.random.default_rng(sum(sizes) + K)
    spec = MLPSpec(sizes, hidden, output)
    X = rng.normal(size=(37, sizes[0]))
    if task == "regression":
        y = rng.normal(size=37)
        kw = {"noise": noise, "tau2": 0.3 if noise == "fixed" else None}
    else:
        y = rng.integers(0, sizes[-1], 37)
        kw = {}
    kw["torch_sigmoid"] = path == "torch"
    kw["fused"] = None if path == "compiled" else False
    post = MLPPosterior(spec, X, y, task, sigma2=4.0, nu1=2.0, nu2=0.1, mask=mask, **kw)
    assert (post._fused is not None) == (path == "compiled" and len(sizes) == 3)
    assert (post._torch is not None) == (path == "torch" and hidden == "sigmoid")
    x = rng.normal(size=(K, post.dim))
    got = post(x)
    lp, grad, loglik = reference(post, x)
    np.testing.assert_allclose(got.logdensity, lp, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got.loglik, loglik, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got.grad, grad, rtol=1e-9, atol=1e-9)
    # single position (P,) works as well
    one = post(x[0])
    np.testing.assert_allclose(one.logdensity, got.logdensity[0], rtol=1e-12)


def test_float32_close_to_float64() -> None:
    rng = np.random.default_rng(3)
    spec = MLPSpec((8, 12, 1))
    X, y = rng.normal(size=(500, 8)), rng.normal(size=500)
    x = rng.normal(size=(4, spec.n_params + 1)) * 0.5
    a = MLPPosterior(spec, X, y, "regression")(x)
    b = MLPPosterior(spec, X, y, "regression", dtype=np.float32)(x)
    np.testing.assert_allclose(b.logdensity, a.logdensity, rtol=1e-5)
    np.testing.assert_allclose(b.grad, a.grad, rtol=1e-3, atol=1e-3)


def test_mask_ignores_stored_values_and_zeroes_gradient() -> None:
    rng = np.random.default_rng(4)
    spec = MLPSpec((4, 12, 3))
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    mask = [0, 13, 50, 62]
    post = MLPPosterior(spec, X, y, "classification", mask=mask)
    x = rng.normal(size=(3, post.dim))
    x2 = x.copy()
    x2[:, mask] = rng.normal(size=(3, len(mask))) * 100
    a, b = post(x), post(x2)
    np.testing.assert_array_equal(a.logdensity, b.logdensity)
    np.testing.assert_array_equal(a.grad, b.grad)
    assert np.all(a.grad[:, mask] == 0.0)
    # same as explicitly zeroed parameters on the unmasked posterior, up to the prior constant
    full = MLPPosterior(spec, X, y, "classification")
    x0 = x.copy()
    x0[:, mask] = 0.0
    c = full(x0)
    np.testing.assert_allclose(a.loglik, c.loglik, rtol=1e-12)
    assert post.n_kept == spec.n_params - len(mask)


def test_improper_noise_prior_and_validation() -> None:
    rng = np.random.default_rng(5)
    spec = MLPSpec((2, 3, 1))
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    post = MLPPosterior(spec, X, y, "regression", nu1=0.0, nu2=0.0)
    x = rng.normal(size=(2, post.dim))
    lp, grad, _ = reference(post, x)
    np.testing.assert_allclose(post(x).grad, grad, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError):
        MLPPosterior(spec, X, y, "regression", noise="fixed")
    with pytest.raises(ValueError):
        MLPPosterior(MLPSpec((2, 3, 2), output_activation="sigmoid"), X, y, "classification")
    with pytest.raises(ValueError):
        MLPPosterior(spec, X, y, "regression", mask=[spec.n_params])
    built = build_posterior(spec, X, y, "regression", PriorSettings(2.0, 1.0, 1.0))
    assert built.sigma2 == 2.0 and built.dim == spec.n_params + 1


def test_nonfinite_input_gives_nonfinite_density_not_error() -> None:
    rng = np.random.default_rng(6)
    spec = MLPSpec((2, 3, 1))
    post = MLPPosterior(spec, rng.normal(size=(10, 2)), rng.normal(size=10), "regression")
    x = rng.normal(size=(2, post.dim))
    x[0, 0] = np.inf
    x[1, -1] = -1e5  # tau2 underflows
    out = post(x)
    assert not np.isfinite(out.logdensity[0]) or not np.all(np.isfinite(out.grad[0]))


def test_torch_sigmoid_only_where_it_repays_its_import() -> None:
    # numpy path (float32 here): a full Abalone-sized run, 2,506 rows x 12 units x 4 chains x
    # 50,000 iterations, repays the import
    f32 = {"dtype": np.float32}
    assert torch_sigmoid_pays(MLPSpec((8, 12, 1)), 2506, 4, 50_000, **f32)
    assert torch_sigmoid_pays(MLPSpec((8, 12, 12, 1)), 2506, 4, 50_000)
    # resampling (2,000 iterations), Iris, and non-sigmoid networks stay in numpy
    assert not torch_sigmoid_pays(MLPSpec((8, 12, 1)), 2506, 4, 2_000, **f32)
    assert not torch_sigmoid_pays(MLPSpec((4, 12, 3)), 90, 4, 50_000, **f32)
    assert not torch_sigmoid_pays(MLPSpec((8, 12, 1), "tanh"), 2506, 4, 50_000, **f32)
    # the compiled pass (float64, one hidden layer) never imports torch
    assert not torch_sigmoid_pays(MLPSpec((8, 12, 1)), 2506, 4, 50_000)
