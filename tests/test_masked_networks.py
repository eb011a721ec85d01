"""Tests for method B's masked networks: shapes, counts, masks and FLOPs."""

from __future__ import annotations

import math

import pytest
import torch

from bayesprune import masked_networks as mn

torch.set_num_threads(1)
LENET = mn.MaskedNetworkSpec("mlp", (300, 100))


def test_networks_shapes_and_counts() -> None:
    lenet = mn.build_network(LENET, (1, 28, 28), 10)
    assert mn.n_weights(lenet) == 784 * 300 + 300 * 100 + 100 * 10
    assert mn.n_params(lenet) == mn.n_weights(lenet) + 300 + 100 + 10
    assert lenet(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    cnn = mn.build_network(
        mn.MaskedNetworkSpec("cnn", (256,), (32, 64), hidden_activation="relu"),
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
    with pytest.raises(ValueError, match="kind"):
        mn.MaskedNetworkSpec.from_params({"kind": "rnn"})
    with pytest.raises(ValueError, match="hidden_activation"):
        mn.MaskedNetworkSpec(hidden_activation="gelu")
    with pytest.raises(ValueError, match="cnn"):
        mn.build_network(mn.MaskedNetworkSpec("cnn"), (4,), 2)


def test_spec_from_params_defaults_by_kind() -> None:
    assert mn.MaskedNetworkSpec.from_params({}) == LENET
    cnn = mn.MaskedNetworkSpec.from_params({"kind": "cnn", "output_activation": "sigmoid"})
    assert cnn.hidden == (256,) and cnn.channels == (32, 64) and cnn.kernel_size == 3
    assert mn.MaskedNetworkSpec.from_params({"hidden": [4]}).hidden == (4,)


def test_flops_count_kept_weights_per_output_position() -> None:
    lenet = mn.build_network(LENET, (1, 28, 28), 10)
    assert mn.flops(lenet, (1, 28, 28)) == (266200, 266200)
    name, _, m = mn.prunable(lenet)[0]
    mask = torch.ones_like(m)
    mask.view(-1)[:1000] = 0
    mn.set_masks(lenet, {name: mask})
    assert mn.flops(lenet, (1, 28, 28)) == (266200, 265200)
    cnn = mn.build_network(mn.MaskedNetworkSpec("cnn", (8,), (4,)), (1, 8, 8), 10)
    # conv 3x3 (1 -> 4 channels) at 8 x 8 positions, then 4*4*4 -> 8 -> 10
    dense = 4 * 9 * 64 + 64 * 8 + 8 * 10
    assert mn.flops(cnn, (1, 8, 8)) == (dense, dense)
    name, _, m = mn.prunable(cnn)[0]
    mask = torch.ones_like(m)
    mask.view(-1)[:9] = 0  # one output channel's kernel: 9 weights x 64 positions
    mn.set_masks(cnn, {name: mask})
    assert mn.flops(cnn, (1, 8, 8)) == (dense, dense - 9 * 64)
