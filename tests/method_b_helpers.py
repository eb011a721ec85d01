"""Data and small networks shared by the method-B tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from bayesprune import masked_networks as mn
from bayesprune.bayes_factor import GateSettings
from bayesprune.sparse_training import MethodResult, TrainSettings, train_method

SPLIT_KEYS = ("X_train", "y_train", "X_test", "y_test")


def digits_split(n: int = 500, n_train: int = 400) -> dict[str, np.ndarray]:
    """``n`` digits images ``(N, 1, 8, 8)`` in [0, 1], the first ``n_train`` for training."""
    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(0).permutation(len(y))[:n]
    tr, te = idx[:n_train], idx[n_train:]
    return dict(zip(SPLIT_KEYS, (X[tr], y[tr], X[te], y[te]), strict=True))


def small_model(seed: int = 0) -> mn.MaskedNetwork:
    torch.manual_seed(seed)
    return mn.build_network(mn.MaskedNetworkSpec("mlp", (16, 8)), (1, 8, 8), 10)


def trained_model(split: dict[str, np.ndarray], epochs: int = 3) -> mn.MaskedNetwork:
    model = small_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.from_numpy(split["X_train"]), torch.from_numpy(split["y_train"])
    for _ in range(epochs):
        for i in range(0, len(X), 50):
            opt.zero_grad()
            F.cross_entropy(model(X[i : i + 50]), y[i : i + 50]).backward()
            opt.step()
    return model


def run(
    method: str,
    split: dict[str, np.ndarray],
    network: dict[str, Any],
    *,
    epochs: int = 25,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    final_sparsity: float | None = None,
    oneshot_epoch: int | None = None,
    **gate: Any,
) -> MethodResult:
    """:func:`train_method` with the settings given as keywords (the gate's by name)."""
    return train_method(
        method,
        split,
        mn.MaskedNetworkSpec.from_params(network),
        TrainSettings(epochs, batch_size, lr),
        GateSettings(**gate),
        seed=seed,
        final_sparsity=final_sparsity,
        oneshot_epoch=oneshot_epoch,
    )
