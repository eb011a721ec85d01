"""Tests for method B's pruning steps: random and magnitude proposals, the gradual schedule,
and pruning with the optimiser's state."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from method_b_helpers import digits_split, small_model

from bayesprune import masked_networks as mn
from bayesprune import proposals as pp

torch.set_num_threads(1)


def test_random_proposal_removes_ceil_rate_alive_uniformly() -> None:
    model = small_model()
    g = torch.Generator().manual_seed(0)
    pp.prune_(model, pp.propose_masks(model, 0.3, "random", g))
    masks = pp.propose_masks(model, 0.75, "random", g)
    for name, _, m in mn.prunable(model):
        alive = int(m.sum())
        new = masks[name]
        assert int(new.sum()) == alive - math.ceil(0.75 * alive)
        assert bool((new <= m).all())  # only alive entries are removed
    assert pp.removal_count(10, 0.75) == 8 and pp.removal_count(1, 0.75) == 0
    # uniform: every entry of a layer is removed with frequency ~ rate
    torch.manual_seed(0)
    one = mn.build_network(mn.MaskedNetworkSpec("mlp", ()), (10,), 2)  # 20 weights
    g = torch.Generator().manual_seed(123)
    counts = torch.zeros(20)
    reps = 2000
    for _ in range(reps):
        counts += 1 - pp.propose_masks(one, 0.5, "random", g)["classifier.0.weight"].view(-1)
    freq = counts / reps
    assert float((freq - 0.5).abs().max()) < 0.06
    with pytest.raises(ValueError, match="criterion"):
        pp.propose_masks(one, 0.5, "stn")


def test_magnitude_proposal_removes_smallest_per_layer() -> None:
    model = small_model()
    pp.prune_(model, pp.propose_masks(model, 0.2, "magnitude"))
    masks = pp.propose_masks(model, 0.5, "magnitude")
    assert pp.masks_sparsity(masks) == pytest.approx(1 - 0.8 * 0.5, abs=0.02)
    for name, w, m in mn.prunable(model):
        w = w.detach()
        alive = m.bool()
        removed = alive & ~masks[name].bool()
        kept = masks[name].bool()
        assert int(removed.sum()) == math.ceil(0.5 * int(alive.sum()))
        assert float(w[removed].abs().max()) <= float(w[kept].abs().min())


def test_gradual_schedule_reaches_final_sparsity() -> None:
    assert pp.cubic_sparsity(0, 10, 0.9) == 0.0
    assert pp.cubic_sparsity(10, 10, 0.9) == pytest.approx(0.9)
    s = [pp.cubic_sparsity(t, 10, 0.9) for t in range(11)]
    assert all(b >= a for a, b in zip(s, s[1:], strict=False))
    model = small_model()
    for t in range(1, 6):
        pp.prune_(model, pp.magnitude_masks_at(model, pp.cubic_sparsity(t, 5, 0.8)))
    assert mn.sparsity(model) == pytest.approx(0.8, abs=0.01)
    for s_layer in mn.layer_sparsity(model).values():
        assert s_layer == pytest.approx(0.8, abs=0.02)


def test_pruned_weights_stay_zero_and_masks_only_grow() -> None:
    split = digits_split()
    X, y = torch.from_numpy(split["X_train"][:100]), torch.from_numpy(split["y_train"][:100])
    model = small_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    prev = {name: m.clone() for name, _, m in mn.prunable(model)}
    g = torch.Generator().manual_seed(0)
    for step in range(30):
        if step % 10 == 5:
            pp.prune_(model, pp.propose_masks(model, 0.5, "random", g), opt)
            for name, _, m in mn.prunable(model):
                assert bool((m <= prev[name]).all())
                prev[name] = m.clone()
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        for _, w, m in mn.prunable(model):
            w.grad.mul_(m)  # as the training loop masks gradients
        opt.step()
        # Adam with masked gradients and the moments prune_ zeroed leaves pruned weights at
        # exactly 0, without re-applying the masks
        for _, w, m in mn.prunable(model):
            assert bool((w[m == 0] == 0).all())
    assert mn.sparsity(model) > 0.5
