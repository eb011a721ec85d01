"""Tests for method B's gate: the Bayes factor, its settings and one epoch's gate."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from method_b_helpers import digits_split, trained_model

from bayesprune import bayes_factor as bf
from bayesprune import masked_networks as mn
from bayesprune.proposals import propose_masks, prune_

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> dict:
    return digits_split()


def _tensors(split: dict) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(split["X_train"]), torch.from_numpy(split["y_train"])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_log_bayes_factor_matches_direct_computation(digits, reduction: str) -> None:
    X, y = _tensors(digits)
    model = trained_model(digits, epochs=1)
    # start from a partly pruned network so both masks are non-trivial
    prune_(model, propose_masks(model, 0.3, "random", torch.Generator().manual_seed(1)))
    proposal = propose_masks(model, 0.5, "magnitude")
    sigma2 = 0.7
    before = copy.deepcopy(model.state_dict())

    res = bf.log_bayes_factor(model, proposal, X, y, sigma2, reduction, batch_size=64)

    # the model is left untouched
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k

    def direct_log_post(net: torch.nn.Module) -> tuple[float, float]:
        with torch.no_grad():
            nll = F.cross_entropy(net(X).double(), y, reduction="sum").item()
            loglik = -nll if reduction == "sum" else -nll / len(y)
            params = torch.cat([p.detach().double().reshape(-1) for p in net.parameters()])
            scale = torch.tensor(math.sqrt(sigma2), dtype=torch.float64)
            normal = torch.distributions.Normal(torch.zeros((), dtype=torch.float64), scale)
            return loglik, normal.log_prob(params).sum().item()

    lik0, pri0 = direct_log_post(model)
    pruned = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in pruned.named_parameters():
            if name in proposal:
                p.mul_(proposal[name])
    lik1, pri1 = direct_log_post(pruned)

    assert math.isclose(res.log_bf_likelihood, lik1 - lik0, rel_tol=1e-5, abs_tol=1e-6)
    assert math.isclose(res.log_bf_prior, pri1 - pri0, rel_tol=1e-6, abs_tol=1e-8)
    assert math.isclose(res.log_bf, (lik1 + pri1) - (lik0 + pri0), rel_tol=1e-5, abs_tol=1e-6)
    assert math.isclose(res.log_prior_current, pri0, rel_tol=1e-9)
    assert res.log_bf_prior > 0  # removing weights always raises a zero-mean Gaussian prior
    assert math.isclose(-res.current.loss_sum, -F.cross_entropy(model(X), y, reduction="sum").item(), rel_tol=1e-5)  # fmt: skip


def test_gate_rejects_large_likelihood_drop_and_accepts_tiny_beta(digits) -> None:
    X, y = _tensors(digits)
    model = trained_model(digits, epochs=5)
    proposal = propose_masks(model, 0.99, "magnitude")
    res = bf.log_bayes_factor(model, proposal, X, y, 1.0, "sum")
    assert res.log_bf_likelihood < -50  # the fit collapses
    assert not res.accept(3.0)
    assert res.accept(math.exp(res.log_bf - 1.0))  # any beta below the BF accepts
    assert res.accept(1e-300)  # log(1e-300) = -690.8: a tiny beta waves even this through
    # the mean reduction shrinks the likelihood term by N: the prior term decides
    small = propose_masks(model, 0.1, "magnitude")
    res_mean = bf.log_bayes_factor(model, small, X, y, 1.0, "mean")
    assert res_mean.accept(1e-6)


def test_likelihood_scale_interpolates_between_mean_and_sum(digits) -> None:
    X, y = _tensors(digits)
    model = trained_model(digits, epochs=3)
    proposal = propose_masks(model, 0.5, "magnitude")
    total = bf.log_bayes_factor(model, proposal, X, y, 1.0, "sum")
    mean = bf.log_bayes_factor(model, proposal, X, y, 1.0, "mean")
    assert math.isclose(mean.log_bf_likelihood, total.log_bf_likelihood / len(y), rel_tol=1e-12)
    for scale in (1.0, 0.1, 1 / len(y)):
        res = bf.log_bayes_factor(model, proposal, X, y, 1.0, "sum", likelihood_scale=scale)
        assert math.isclose(res.log_bf_likelihood, scale * total.log_bf_likelihood, rel_tol=1e-12)
        assert res.log_bf_prior == total.log_bf_prior  # the prior part is not scaled
    assert bf.resolve_likelihood_scale("mean", None, 400) == 1 / 400
    assert bf.resolve_likelihood_scale("mean", 0.2, 400) == 0.2  # an explicit scale wins
    for bad in (0.0, 1.5, -1.0):
        with pytest.raises(ValueError, match="likelihood_scale"):
            bf.resolve_likelihood_scale("sum", bad, 400)


def test_gate_settings_from_params_check_every_value() -> None:
    params = {
        "train": {"epochs": 2},
        "rates": [0.75, 0.25],
        "beta": 3.0,
        "prior_sigma2": 1.0,
        "likelihood_reduction": "sum",
        "likelihood_scale": 0.1,
    }
    gate = bf.GateSettings.from_params(params)
    assert gate.rates == (0.75, 0.25) and gate.scale(400) == 0.1
    assert bf.GateSettings(rates=0.5).rates == (0.5,)  # a number is the one-element list
    assert bf.GateSettings(likelihood_reduction="mean").scale(400) == 1 / 400
    for bad in ([], [0.5, 0.75], [0.5, 0.5], [1.0]):
        with pytest.raises(ValueError, match="rate"):
            bf.check_rates(bad)
    for key, bad in (("beta", 0.0), ("prior_sigma2", -1.0), ("likelihood_scale", 2.0)):
        with pytest.raises(ValueError, match=key):
            bf.GateSettings.from_params({**params, key: bad})
    with pytest.raises(ValueError, match="likelihood_reduction"):
        bf.GateSettings(likelihood_reduction="max")


def test_gate_step_keeps_the_first_rate_that_passes(digits) -> None:
    X, y = _tensors(digits)
    model = trained_model(digits, epochs=5)
    rates = (0.99, 0.5, 0.2)
    settings = bf.GateSettings(rates, beta=math.exp(-1.0), likelihood_scale=0.1)
    current = bf.evaluate(model, X, y)
    gate = bf.Gate(settings, "magnitude", X, y, torch.Generator())
    step = gate.step(model, current, None)
    tried = bf.parse_rates_tried(bf.rates_tried_text(step.tried))
    assert [r for r, _ in tried] == list(rates)  # 0.99 and 0.5 hurt the fit too much
    assert all(lb <= -1.0 for _, lb in tried[:-1])
    assert step.accepted and step.rate == 0.2 and step.log_bf > -1.0
    assert mn.sparsity(model) == pytest.approx(step.proposed_sparsity)
    assert step.train == bf.evaluate(model, X, y)  # the pruned network's metrics
    # a rejected epoch leaves the masks alone and reports the current network
    model = trained_model(digits, epochs=5)
    before = {name: m.clone() for name, _, m in mn.prunable(model)}
    strict = bf.Gate(bf.GateSettings((0.99,)), "magnitude", X, y, torch.Generator())
    rejected = strict.step(model, current, None)
    assert not rejected.accepted and math.isnan(rejected.rate) and rejected.train is current
    assert all(torch.equal(m, before[name]) for name, _, m in mn.prunable(model))
