"""Tests for method B: masked networks, the Bayes factor gate, proposals and training loop."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from bayesprune import bayes_factor as bf
from bayesprune import masked_networks as mn

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8) in [0, 1]
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))[:500]
    return X[idx[:400]], y[idx[:400]], X[idx[400:]], y[idx[400:]]


def _small_model(seed: int = 0) -> mn.MaskedNetwork:
    torch.manual_seed(seed)
    return mn.build_network({"kind": "mlp", "hidden": [16, 8]}, (1, 8, 8), 10)


def _trained(digits, epochs: int = 3) -> mn.MaskedNetwork:
    Xtr, ytr, _, _ = digits
    model = _small_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    for _ in range(epochs):
        for i in range(0, len(X), 50):
            opt.zero_grad()
            F.cross_entropy(model(X[i : i + 50]), y[i : i + 50]).backward()
            opt.step()
    return model


# --------------------------------------------------------------------------- networks


def test_networks_shapes_and_counts() -> None:
    lenet = mn.build_network({"kind": "mlp", "hidden": [300, 100]}, (1, 28, 28), 10)
    assert mn.n_weights(lenet) == 784 * 300 + 300 * 100 + 100 * 10
    assert mn.n_params(lenet) == mn.n_weights(lenet) + 300 + 100 + 10
    assert lenet(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    cnn = mn.build_network(
        {"kind": "cnn", "channels": [32, 64], "hidden": [256], "hidden_activation": "relu"},
        (3, 32, 32),
        10,
    )
    assert cnn(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    names = [n for n, _, _ in mn.prunable(cnn)]
    assert len(names) == 4 and all(n.endswith(".weight") for n in names)
    for _, w, m in mn.prunable(cnn):
        assert m.shape == w.shape and bool((m == 1).all())
    assert mn.sparsity(cnn) == 0.0 and mn.kept_params(cnn) == mn.n_params(cnn)
    # masks and counts
    name, w, m = mn.prunable(lenet)[0]
    mask = torch.ones_like(m)
    mask.view(-1)[:1000] = 0
    mn.set_masks(lenet, {name: mask})
    assert bool((w.view(-1)[:1000] == 0).all())
    assert mn.kept_weights(lenet) == mn.n_weights(lenet) - 1000
    assert mn.kept_params(lenet) == mn.n_params(lenet) - 1000
    assert math.isclose(mn.sparsity(lenet), 1000 / mn.n_weights(lenet))
    with pytest.raises(ValueError):
        mn.build_network({"kind": "rnn"}, (4,), 2)


# --------------------------------------------------------------------------- Bayes factor


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_log_bayes_factor_matches_direct_computation(digits, reduction: str) -> None:
    Xtr, ytr, _, _ = digits
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    model = _trained(digits, epochs=1)
    # start from a partly pruned network so both masks are non-trivial
    bf.prune_(model, bf.propose_masks(model, 0.3, "random", torch.Generator().manual_seed(1)))
    proposal = bf.propose_masks(model, 0.5, "magnitude")
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
    Xtr, ytr, _, _ = digits
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    model = _trained(digits, epochs=5)
    proposal = bf.propose_masks(model, 0.99, "magnitude")
    res = bf.log_bayes_factor(model, proposal, X, y, 1.0, "sum")
    assert res.log_bf_likelihood < -50  # the fit collapses
    assert not res.accept(3.0)
    assert res.accept(math.exp(res.log_bf - 1.0))  # any beta below the BF accepts
    assert res.accept(1e-300)  # log(1e-300) = -690.8: a tiny beta waves even this through
    # the mean reduction shrinks the likelihood term by N: the prior term decides
    small = bf.propose_masks(model, 0.1, "magnitude")
    res_mean = bf.log_bayes_factor(model, small, X, y, 1.0, "mean")
    assert res_mean.accept(1e-6)


# --------------------------------------------------------------------------- proposals


def test_random_proposal_removes_ceil_rate_alive_uniformly() -> None:
    model = _small_model()
    g = torch.Generator().manual_seed(0)
    bf.prune_(model, bf.propose_masks(model, 0.3, "random", g))
    masks = bf.propose_masks(model, 0.75, "random", g)
    for name, _, m in mn.prunable(model):
        alive = int(m.sum())
        new = masks[name]
        assert int(new.sum()) == alive - math.ceil(0.75 * alive)
        assert bool((new <= m).all())  # only alive entries are removed
    assert bf.n_to_prune(10, 0.75) == 8 and bf.n_to_prune(1, 0.75) == 0
    # uniform: every entry of a layer is removed with frequency ~ rate
    torch.manual_seed(0)
    one = mn.build_network({"kind": "mlp", "hidden": []}, (10,), 2)  # 20 weights
    g = torch.Generator().manual_seed(123)
    counts = torch.zeros(20)
    reps = 2000
    for _ in range(reps):
        counts += 1 - bf.propose_masks(one, 0.5, "random", g)["classifier.0.weight"].view(-1)
    freq = counts / reps
    assert float((freq - 0.5).abs().max()) < 0.06


def test_magnitude_proposal_removes_smallest_per_layer() -> None:
    model = _small_model()
    bf.prune_(model, bf.propose_masks(model, 0.2, "magnitude"))
    masks = bf.propose_masks(model, 0.5, "magnitude")
    for name, w, m in mn.prunable(model):
        w = w.detach()
        alive = m.bool()
        removed = alive & ~masks[name].bool()
        kept = masks[name].bool()
        assert int(removed.sum()) == math.ceil(0.5 * int(alive.sum()))
        assert float(w[removed].abs().max()) <= float(w[kept].abs().min())


def test_gradual_schedule_reaches_final_sparsity() -> None:
    assert bf.cubic_sparsity(0, 10, 0.9) == 0.0
    assert bf.cubic_sparsity(10, 10, 0.9) == pytest.approx(0.9)
    s = [bf.cubic_sparsity(t, 10, 0.9) for t in range(11)]
    assert all(b >= a for a, b in zip(s, s[1:], strict=False))
    model = _small_model()
    for t in range(1, 6):
        bf.prune_(model, bf.magnitude_masks_at(model, bf.cubic_sparsity(t, 5, 0.8)))
    assert mn.sparsity(model) == pytest.approx(0.8, abs=0.01)
    for s_layer in mn.layer_sparsity(model).values():
        assert s_layer == pytest.approx(0.8, abs=0.02)


# --------------------------------------------------------------------------- training


def test_pruned_weights_stay_zero_and_masks_only_grow(digits) -> None:
    Xtr, ytr, _, _ = digits
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    model = _small_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    prev = mn.get_masks(model)
    g = torch.Generator().manual_seed(0)
    for step in range(30):
        if step % 10 == 5:
            bf.prune_(model, bf.propose_masks(model, 0.5, "random", g), opt)
            masks = mn.get_masks(model)
            for k in masks:
                assert bool((masks[k] <= prev[k]).all())
            prev = masks
        opt.zero_grad()
        F.cross_entropy(model(X[:100]), y[:100]).backward()
        mn.mask_gradients(model)
        opt.step()
        # Adam with masked gradients and zeroed moments leaves pruned weights at exactly 0,
        # even before apply_masks runs
        for _, w, m in mn.prunable(model):
            assert bool((w[m == 0] == 0).all())
        mn.apply_masks(model)
    assert mn.sparsity(model) > 0.5


def test_run_method_keeps_pruned_zero_and_masks_grow(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    res = bf.train_method(
        "magnitude", Xtr, ytr, Xte, yte, {"kind": "mlp", "hidden": [16]}, epochs=3, rates=0.5
    )
    h = res.history
    assert (np.diff(h["sparsity"]) > 0).all()
    for _, w, m in mn.prunable(res.model):
        assert bool((w[m == 0] == 0).all())


def test_same_seed_same_history(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    kw = dict(epochs=3, batch_size=32, rates=0.3, beta=1e-3, seed=7)
    cfg = {"kind": "mlp", "hidden": [16]}
    h1, f1 = bf.run_method("bayes_random", Xtr, ytr, Xte, yte, cfg, **kw)
    h2, f2 = bf.run_method("bayes_random", Xtr, ytr, Xte, yte, cfg, **kw)
    cols = [c for c in bf.HISTORY_COLUMNS if not c.endswith("seconds")]
    assert h1[cols].equals(h2[cols])
    assert f1["test_acc"] == f2["test_acc"] and f1["sparsity"] == f2["sparsity"]
    h3, _ = bf.run_method("bayes_random", Xtr, ytr, Xte, yte, cfg, **{**kw, "seed": 8})
    assert not h1[cols].equals(h3[cols])


def test_every_method_end_to_end(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    cfg = {"kind": "mlp", "hidden": [32, 16]}
    common = dict(epochs=3, batch_size=64, lr=1e-2, rates=0.5, beta=3.0, prior_sigma2=1.0, seed=1)
    finals = {}
    for method in bf.METHODS:
        kw = dict(common)
        if method in bf.MATCHED:
            kw["final_sparsity"] = 0.6
        h, f = bf.run_method(method, Xtr, ytr, Xte, yte, cfg, **kw)
        assert list(h.columns) == list(bf.HISTORY_COLUMNS)
        assert len(h) == 3 and h["accepted"].dtype == bool
        for key in ("method", "test_acc", "test_loss", "sparsity", "kept_params"):
            assert key in f
        assert f["kept_weights"] + (f["n_params"] - f["n_weights"]) == f["kept_params"]
        assert 0.0 <= f["test_acc"] <= 1.0
        gated = method.startswith("bayes_")
        assert h["log_bf"].notna().all() == gated
        if gated:
            np.testing.assert_allclose(
                h["log_bf"], h["log_bf_likelihood"] + h["log_bf_prior"], rtol=1e-9
            )
        finals[method] = f
    # with a tiny beta the gated run accepts every step, like the ungated one
    h_tiny, _ = bf.run_method(
        "bayes_magnitude", Xtr, ytr, Xte, yte, cfg, **{**common, "beta": 1e-300}
    )
    assert h_tiny["accepted"].all()
    np.testing.assert_allclose(h_tiny["sparsity"], h_tiny["proposed_sparsity"])
    assert finals["unpruned"]["sparsity"] == 0.0 and finals["unpruned"]["accepted_steps"] == 0
    assert finals["random"]["sparsity"] == pytest.approx(1 - 0.5**3, abs=0.01)
    assert finals["magnitude"]["accepted_steps"] == 3
    assert finals["gradual_magnitude"]["sparsity"] == pytest.approx(0.6, abs=0.01)
    assert finals["oneshot_magnitude"]["sparsity"] == pytest.approx(0.6, abs=0.01)
    # every method starts from the same initial network
    with pytest.raises(ValueError):
        bf.run_method("gradual_magnitude", Xtr, ytr, Xte, yte, cfg, epochs=1)
    # a tiny CNN runs too; the mean reduction accepts (prior term dominates)
    h, f = bf.run_method(
        "bayes_magnitude",
        Xtr,
        ytr,
        Xte,
        yte,
        {"kind": "cnn", "channels": [4], "hidden": [8]},
        epochs=2,
        rates=[0.3],
        likelihood_reduction="mean",
        beta=1.0,
    )
    assert f["sparsity"] > 0 and f["accepted_steps"] >= 1


# --------------------------------------------------------------------------- rates, scale, one-shot


def test_likelihood_scale_interpolates_between_mean_and_sum(digits) -> None:
    Xtr, ytr, _, _ = digits
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    model = _trained(digits, epochs=3)
    proposal = bf.propose_masks(model, 0.5, "magnitude")
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


def test_rates_step_down_until_one_passes(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    rates = [0.75, 0.5, 0.25, 0.1]
    cfg = {"kind": "mlp", "hidden": [64], "hidden_activation": "relu"}
    kw = dict(epochs=8, batch_size=32, lr=3e-3, rates=rates, beta=1.0, seed=3)
    h, f = bf.run_method("bayes_magnitude", Xtr, ytr, Xte, yte, cfg, likelihood_scale=0.3, **kw)
    log_beta = math.log(1.0)
    assert f["rates"] == rates and f["likelihood_scale"] == 0.3
    assert f["effective_sample_size"] == pytest.approx(0.3 * len(ytr))
    prev = 0.0
    for _, row in h.iterrows():
        tried = bf.parse_rates_tried(row["rates_tried"])
        assert [r for r, _ in tried] == rates[: len(tried)]  # largest first, in order
        assert all(lb <= log_beta for _, lb in tried[:-1])  # every earlier rate failed
        if row["accepted"]:
            assert tried[-1][1] > log_beta and row["rate"] == tried[-1][0]
            assert row["log_bf"] == pytest.approx(tried[-1][1], rel=1e-5)
            assert row["sparsity"] > prev
        else:
            assert len(tried) == len(rates) and math.isnan(row["rate"])
            assert row["sparsity"] == prev
        prev = row["sparsity"]
    # at this scale the gate visibly accepts some steps and rejects others
    assert 0 < h["accepted"].sum() < len(h)
    assert (
        h.loc[h["accepted"], "rate"] < rates[0]
    ).any()  # a smaller rate passed where 0.75 failed
    # the summed likelihood (scale 1) keeps fewer weights out than the tempered gate
    _, f_sum = bf.run_method("bayes_magnitude", Xtr, ytr, Xte, yte, cfg, **kw)
    assert f_sum["sparsity"] < f["sparsity"]
    # a number is the one-element list: the paper's single rate
    h1, _ = bf.run_method("bayes_magnitude", Xtr, ytr, Xte, yte, cfg, **{**kw, "rates": 0.5})
    h2, _ = bf.run_method("bayes_magnitude", Xtr, ytr, Xte, yte, cfg, **{**kw, "rates": [0.5]})
    cols = [c for c in bf.HISTORY_COLUMNS if not c.endswith("seconds")]
    assert h1[cols].equals(h2[cols])
    for bad in ([], [0.5, 0.75], [0.5, 0.5], [1.0]):
        with pytest.raises(ValueError, match="rate"):
            bf.check_rates(bad)


def test_oneshot_prunes_once_then_fine_tunes(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    cfg = {"kind": "mlp", "hidden": [32]}
    res = bf.train_method(
        "oneshot_magnitude", Xtr, ytr, Xte, yte, cfg, epochs=5, final_sparsity=0.8, seed=2
    )
    h = res.history
    assert list(h["sparsity"][:1]) == [0.0]  # dense until epoch 5 // 2 = 2
    assert h["accepted"].tolist() == [False, True, False, False, False]
    assert h["sparsity"].iloc[1:].tolist() == pytest.approx([h["sparsity"].iloc[1]] * 4)
    assert h["sparsity"].iloc[-1] == pytest.approx(0.8, abs=0.01)
    for _, w, m in mn.prunable(res.model):
        assert bool((w[m == 0] == 0).all())  # fine-tuning leaves pruned weights at 0
    late = bf.train_method(
        "oneshot_magnitude", Xtr, ytr, Xte, yte, cfg, epochs=5, final_sparsity=0.8, oneshot_epoch=4
    ).history
    assert late["accepted"].tolist() == [False, False, False, True, False]
    with pytest.raises(ValueError, match="final_sparsity"):
        bf.train_method("oneshot_magnitude", Xtr, ytr, Xte, yte, cfg, epochs=2)


def test_flops_count_kept_weights_per_output_position() -> None:
    lenet = mn.build_network({"kind": "mlp", "hidden": [300, 100]}, (1, 28, 28), 10)
    assert mn.flops(lenet, (1, 28, 28)) == (266200, 266200)
    name, _, m = mn.prunable(lenet)[0]
    mask = torch.ones_like(m)
    mask.view(-1)[:1000] = 0
    mn.set_masks(lenet, {name: mask})
    assert mn.flops(lenet, (1, 28, 28)) == (266200, 265200)
    cnn = mn.build_network({"kind": "cnn", "channels": [4], "hidden": [8]}, (1, 8, 8), 10)
    # conv 3x3 (1 -> 4 channels) at 8 x 8 positions, then 4*4*4 -> 8 -> 10
    dense = 4 * 9 * 64 + 64 * 8 + 8 * 10
    assert mn.flops(cnn, (1, 8, 8)) == (dense, dense)
    name, _, m = mn.prunable(cnn)[0]
    mask = torch.ones_like(m)
    mask.view(-1)[:9] = 0  # one output channel's kernel: 9 weights x 64 positions
    mn.set_masks(cnn, {name: mask})
    assert mn.flops(cnn, (1, 8, 8)) == (dense, dense - 9 * 64)
