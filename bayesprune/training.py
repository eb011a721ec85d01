"""Unpruned, deterministic training of the method-A network with Adam.

The trained vector is the reference point of method A: MCMC may start from it
(``init: map``) and every pruned or resampled network is compared against it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .networks import MLPSpec, forward

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    theta: np.ndarray  # (P,) float64, flat layout of networks.MLPSpec
    noise_var: float | None  # regression: training mean squared error (tau^2 estimate)
    history: list[dict[str, float]]


def _loss(
    spec: MLPSpec, task: str, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    out = forward(spec, theta, x)
    if task == "regression":
        return F.mse_loss(out[:, 0], y)
    return F.cross_entropy(out, y)


def train_map(
    spec: MLPSpec,
    task: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
) -> TrainResult:
    """Train the flat-vector MLP with Adam on mini-batches (squared error or cross-entropy).

    Initial weights are N(0, 1/fan_in) per layer with zero biases, from ``seed``. Returns
    the trained vector in float64 and one history row per epoch.
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be regression or classification, got {task!r}")
    gen = torch.Generator().manual_seed(seed)
    theta0 = torch.zeros(spec.n_params, dtype=torch.float32)
    for block in spec.blocks:
        if block.kind == "weight":
            fan_in = block.shape[1]
            theta0[block.slice] = torch.randn(block.size, generator=gen) / math.sqrt(fan_in)
    theta = theta0.to(device).requires_grad_(True)
    x = torch.as_tensor(x_train, dtype=torch.float32, device=device)
    y = torch.as_tensor(
        y_train, dtype=torch.float32 if task == "regression" else torch.int64, device=device
    )
    opt = torch.optim.Adam([theta], lr=lr, weight_decay=weight_decay)
    n = x.shape[0]
    history = []
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen).to(device)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = _loss(spec, task, theta, x[idx], y[idx])
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"training loss became {loss.item()} at epoch {epoch}: lower method_a.train.lr"
                )
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        history.append({"epoch": epoch + 1, "train_loss": total / n})
    theta_np = theta.detach().cpu().double().numpy()
    noise_var = None
    if task == "regression":
        with torch.no_grad():
            pred = forward(spec, torch.from_numpy(theta_np), x.double().cpu())[:, 0].numpy()
        noise_var = float(np.mean((pred - np.asarray(y_train, dtype=np.float64)) ** 2))
    log.info("trained %d epochs, final loss %.5g", epochs, history[-1]["train_loss"])
    return TrainResult(theta=theta_np, noise_var=noise_var, history=history)
