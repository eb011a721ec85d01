"""The compiled one-hidden-layer pass (bayesprune.fused) against numpy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bayesprune import fused
from bayesprune.likelihoods import MLPPosterior
from bayesprune.mcmc import streams
from bayesprune.networks import MLPSpec


def test_exponential_and_sigmoid_are_accurate_to_rounding() -> None:
    x = np.linspace(-700.0, 700.0, 400_001)
    e = np.array([fused.exp_neg(v) for v in x[::97]])
    ref = np.exp(x[::97])
    assert np.max(np.abs(e - ref) / ref) < 1e-15
    s = np.array([fused.sigmoid(v) for v in x[::97]])
    with np.errstate(over="ignore"):
        ref_s = 1.0 / (1.0 + np.exp(-x[::97]))
    assert np.max(np.abs(s - ref_s) / ref_s) < 1e-15
    assert fused.sigmoid(800.0) == 1.0 and 0.0 < fused.sigmoid(-800.0) < 1e-300
    assert np.isnan(fused.sigmoid(np.nan))


CASES = [
    (task, act, out, hidden, inputs, classes)
    for task, act, out, hidden, inputs, classes in itertools.product(
        ["regression", "classification"],
        ["sigmoid", "tanh", "relu"],
        ["identity", "sigmoid"],
        [3, 5, 12],
        [3, 4, 34],
        [1, 3],
    )
    if (task == "regression") == (classes == 1)
    and not (task == "classification" and out != "identity")
]


@pytest.mark.parametrize(("task", "act", "out", "hidden", "inputs", "classes"), CASES)
def test_compiled_pass_equals_numpy(
    task: str, act: str, out: str, hidden: int, inputs: int, classes: int
) -> None:
    rng = np.random.default_rng(hidden * 100 + inputs)
    spec = MLPSpec((inputs, hidden, classes), hidden_activation=act, output_activation=out)
    n = 77
    X = rng.normal(size=(n, inputs))
    y = rng.normal(size=n) if task == "regression" else rng.integers(0, classes, n)
    for kw in ({}, {"noise": "fixed", "tau2": 0.3}) if task == "regression" else ({},):
        K = 5
        per_chain = rng.random((K, spec.n_params)) < 0.3
        for mask in (None, rng.choice(spec.n_params, 4, replace=False), per_chain):
            a = MLPPosterior(spec, X, y, task, mask=mask, **kw)
            b = MLPPosterior(spec, X, y, task, mask=mask, fused=False, **kw)
            assert a._fused is not None and b._fused is None
            x = streams.initial_positions(b, K, seed=3) * 2.0
            ra, rb = a(x), b(x)
            np.testing.assert_allclose(ra.logdensity, rb.logdensity, rtol=1e-12)
            np.testing.assert_allclose(ra.loglik, rb.loglik, rtol=1e-12)
            np.testing.assert_allclose(
                ra.grad, rb.grad, rtol=1e-11, atol=1e-11 * np.abs(rb.grad).max()
            )
            if mask is not None:
                pruned = (
                    per_chain
                    if mask is per_chain
                    else np.isin(np.arange(spec.n_params), mask)[None].repeat(K, 0)
                )
                assert np.all(ra.grad[:, : spec.n_params][pruned] == 0.0)


def test_non_finite_parameters_give_non_finite_density() -> None:
    spec = MLPSpec((4, 5, 1), output_activation="sigmoid")
    rng = np.random.default_rng(0)
    post = MLPPosterior(spec, rng.normal(size=(30, 4)), rng.normal(size=30), "regression")
    x = streams.initial_positions(post, 3, seed=0)
    x[1, 0] = np.nan
    x[2, 3] = np.inf
    out = post(x)
    assert np.isfinite(out.logdensity[0]) and not np.isfinite(out.logdensity[1:]).any()


def test_compiled_pass_needs_one_hidden_layer_in_float64() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 4)), rng.normal(size=10)
    with pytest.raises(ValueError, match="one hidden layer"):
        MLPPosterior(MLPSpec((4, 5, 5, 1)), X, y, "regression", fused=True)
    with pytest.raises(ValueError, match="float64"):
        MLPPosterior(MLPSpec((4, 5, 1)), X, y, "regression", dtype=np.float32, fused=True)
    assert MLPPosterior(MLPSpec((4, 5, 5, 1)), X, y, "regression")._fused is None
