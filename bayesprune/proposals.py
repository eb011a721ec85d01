"""Method B's pruning steps: which weights a step removes, and applying it to a network.

A proposed mask ``m'`` removes a fraction ``rate`` of the weights still alive in each layer
(biases are never pruned), either uniformly at random or the smallest ``|w|``. The number
removed from a layer with ``a`` alive weights is ``ceil(rate * a)`` (:func:`removal_count`),
capped so that at least ``min_alive`` (default 1) weights stay in every layer (a layer is
never fully disconnected). Masks are cumulative: entries only ever go from 1 to 0.

``gradual_magnitude`` (Zhu & Gupta 2017) prunes every layer by magnitude to the sparsity of
the cubic schedule ``s_t = s_f (1 - (1 - t/T)^3)`` (:func:`cubic_sparsity`,
:func:`magnitude_masks_at`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from bayesprune import masked_networks as mn

PROPOSAL_CRITERIA = ("random", "magnitude")


def removal_count(alive: int, rate: float, min_alive: int = 1) -> int:
    """Weights a step of ``rate`` removes from a layer with ``alive`` weights left.

    ``ceil(rate * alive)``, capped so that ``min_alive`` weights stay alive.
    """
    k = math.ceil(rate * alive - 1e-9)
    return max(0, min(k, alive - min_alive))


def _remove(
    weight: torch.Tensor,
    mask: torch.Tensor,
    k: int,
    criterion: str,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """A copy of ``mask`` with ``k`` more of its alive entries set to 0."""
    new = mask.detach().clone()
    if k <= 0:
        return new
    flat = new.view(-1)
    if criterion == "magnitude":
        score = (weight.detach() * mask).abs().reshape(-1)
        score[flat == 0] = math.inf  # already pruned: never "removed" again
        # the k smallest, ties at the threshold broken by position (O(n), no full sort)
        thr = torch.kthvalue(score.cpu(), k).values.to(score.device)
        below = torch.nonzero(score < thr, as_tuple=False).squeeze(1)
        ties = torch.nonzero(score == thr, as_tuple=False).squeeze(1)
        idx = torch.cat([below, ties[: k - below.numel()]])
    elif criterion == "random":
        alive = torch.nonzero(flat, as_tuple=False).squeeze(1)
        pick = torch.randperm(alive.numel(), generator=generator)[:k]
        idx = alive[pick.to(alive.device)]
    else:
        raise ValueError(f"criterion must be one of {PROPOSAL_CRITERIA}, got {criterion!r}")
    flat[idx] = 0
    return new


def propose_masks(
    model: nn.Module,
    rate: float,
    criterion: str,
    generator: torch.Generator | None = None,
    min_alive: int = 1,
) -> dict[str, torch.Tensor]:
    """Proposed masks removing ``ceil(rate * alive)`` alive weights per layer.

    ``criterion``: ``random`` (a uniformly random subset of the alive weights, drawn with the
    CPU ``generator``) or ``magnitude`` (the smallest ``|w|``; ties broken by position). The
    model is not changed.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    out = {}
    for name, w, m in mn.prunable(model):
        k = removal_count(int(m.sum().item()), rate, min_alive)
        out[name] = _remove(w, m, k, criterion, generator)
    return out


def magnitude_masks_at(
    model: nn.Module, target_sparsity: float, min_alive: int = 1
) -> dict[str, torch.Tensor]:
    """Masks pruning every layer to ``target_sparsity`` by magnitude (cumulative: never regrows).

    A layer of ``n`` weights ends with ``round(target * n)`` pruned (at least the ones already
    pruned, at most ``n - min_alive``).
    """
    out = {}
    for name, w, m in mn.prunable(model):
        n = m.numel()
        alive = int(m.sum().item())
        goal = min(round(target_sparsity * n), n - min_alive)
        out[name] = _remove(w, m, goal - (n - alive), "magnitude", None)
    return out


def cubic_sparsity(t: float, total: float, final_sparsity: float) -> float:
    """Zhu & Gupta (2017) schedule ``s_f (1 - (1 - t/T)^3)``, ``t`` clipped to ``[0, T]``."""
    frac = min(max(t / total, 0.0), 1.0)
    return final_sparsity * (1.0 - (1.0 - frac) ** 3)


def masks_sparsity(masks: Mapping[str, torch.Tensor]) -> float:
    """Fraction of the entries of ``masks`` that are 0 (the sparsity a proposal would reach)."""
    total = sum(m.numel() for m in masks.values())
    kept = sum(int(m.sum().item()) for m in masks.values())
    return 1.0 - kept / total if total else 0.0


def prune_(model: nn.Module, masks: Mapping[str, torch.Tensor], optimizer: Any = None) -> None:
    """Apply ``masks`` to ``model`` in place and zero the optimiser state of pruned entries.

    Zeroing Adam's first and second moments (and masking gradients before each step) makes
    the Adam update of a pruned weight exactly 0.
    """
    mn.set_masks(model, masks)
    if optimizer is None:
        return
    with torch.no_grad():
        for _, w, m in mn.prunable(model):
            state = optimizer.state.get(w, {})
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer"):
                buf = state.get(key)
                if isinstance(buf, torch.Tensor) and buf.shape == m.shape:
                    buf.mul_(m)
