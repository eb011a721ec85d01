"""Method B's gate: the Bayes factor of a proposed pruning step (arXiv 2308.02451).

The log posterior of a mask ``m`` (up to the evidence, which cancels) is::

    log post(m) = log p(D | w * m) + log p(w * m)

* ``log p(D | w * m)``: the categorical log likelihood of the FULL training set, network in
  eval mode, computed in large no-grad batches (never one mini-batch). With
  ``likelihood_reduction: sum`` (the paper's posterior) it is the sum over the N examples;
  with ``mean`` it is divided by N; ``likelihood_scale`` sets the factor directly.
* ``log p(w * m)``: a Gaussian prior ``N(0, prior_sigma2)`` on EVERY parameter, weights and
  biases alike; pruned weights enter as 0, so the dimension never changes. Biases are never
  pruned, so their prior terms (and the normalising constant) cancel in the Bayes factor;
  including them only makes the logged log prior a proper density of the whole network.

``log BF = log post(m') - log post(m)``, split into ``log_bf_likelihood`` and
``log_bf_prior`` (``= sum of w^2 over the removed weights / (2 prior_sigma2) >= 0``). The step
is accepted when ``log BF > log(beta)``. Each epoch the gate (:class:`Gate`) proposes the
rates of :class:`GateSettings` largest first and keeps the first step that passes.

With the ``sum`` reduction ``log BF ~ -N * (change in the training loss) + prior term``, so
the gate accepts a step only when it barely hurts the fit. With ``mean`` the likelihood term
shrinks by a factor N and the (always positive) prior term dominates, so nearly every step is
accepted: that is the practical difference between the two reductions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bayesprune import masked_networks as mn
from bayesprune.proposals import masks_sparsity, propose_masks, prune_

REDUCTIONS = ("sum", "mean")
LOG_2PI = math.log(2.0 * math.pi)
NAN = float("nan")


@dataclass(frozen=True)
class Evaluation:
    """Summed cross-entropy and correct count of a network over a data set."""

    loss_sum: float
    n_correct: int
    n: int

    @property
    def loss(self) -> float:
        """Mean cross-entropy (negative mean log likelihood)."""
        return self.loss_sum / self.n

    @property
    def acc(self) -> float:
        return self.n_correct / self.n

    def log_likelihood(self, reduction: str = "sum") -> float:
        """Categorical log likelihood, summed over the examples or averaged (``mean``)."""
        _check_reduction(reduction)
        return -self.loss_sum if reduction == "sum" else -self.loss_sum / self.n


@torch.no_grad()
def evaluate(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 2048
) -> Evaluation:
    """Evaluate ``model`` (eval mode, no grad) over all of ``X``/``y`` in batches.

    The cross-entropy of each batch is summed in float64, so the total over a large training
    set is accurate enough for differences (Bayes factors) of order 1.
    """
    was_training = model.training
    model.eval()
    loss_sum = 0.0
    n_correct = 0
    for i in range(0, len(X), batch_size):
        logits = model(X[i : i + batch_size])
        yb = y[i : i + batch_size]
        loss_sum += float(F.cross_entropy(logits.double(), yb, reduction="sum"))
        n_correct += int((logits.argmax(1) == yb).sum())
    model.train(was_training)
    return Evaluation(loss_sum, n_correct, len(X))


@torch.no_grad()
def log_prior(model: nn.Module, prior_sigma2: float) -> float:
    """Log density of ``N(0, prior_sigma2)`` over every parameter (masked weights enter as 0)."""
    masks = {id(w): m for _, w, m in mn.prunable(model)}
    sq = 0.0
    count = 0
    for p in model.parameters():
        v = p * masks[id(p)] if id(p) in masks else p
        sq += float(v.double().square().sum())
        count += p.numel()
    return -0.5 * sq / prior_sigma2 - 0.5 * count * (LOG_2PI + math.log(prior_sigma2))


@dataclass(frozen=True)
class BayesFactor:
    """Log Bayes factor of a proposed mask against the current one, and its parts."""

    log_bf: float
    log_bf_likelihood: float
    log_bf_prior: float
    current: Evaluation
    proposed: Evaluation
    log_prior_current: float
    log_prior_proposed: float

    def accept(self, beta: float) -> bool:
        """``log BF > log(beta)``."""
        return self.log_bf > math.log(beta)


@torch.no_grad()
def log_bayes_factor(
    model: nn.Module,
    proposed_masks: Mapping[str, torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    prior_sigma2: float,
    likelihood_reduction: str = "sum",
    batch_size: int = 2048,
    current: Evaluation | None = None,
    likelihood_scale: float | None = None,
) -> BayesFactor:
    """``log post(m') - log post(m)`` for ``m'`` = ``proposed_masks``, ``m`` = current masks.

    The log likelihood is the summed one times ``likelihood_scale``; ``None`` takes the scale
    from ``likelihood_reduction`` (``sum``: 1, ``mean``: 1/N). The model is left exactly as it
    was (weights and masks restored). ``current`` may pass an evaluation of the current
    network on ``X``/``y`` that is already at hand.
    """
    scale = resolve_likelihood_scale(likelihood_reduction, likelihood_scale, len(X))
    if current is None:
        current = evaluate(model, X, y, batch_size)
    lp_cur = log_prior(model, prior_sigma2)
    saved = [(w, w.detach().clone(), m.detach().clone()) for _, w, m in mn.prunable(model)]
    try:
        mn.set_masks(model, proposed_masks)
        proposed = evaluate(model, X, y, batch_size)
        lp_new = log_prior(model, prior_sigma2)
    finally:
        for (_, _, mask), (w, w0, m0) in zip(mn.prunable(model), saved, strict=True):
            w.copy_(w0)
            mask.copy_(m0)
    d_lik = scale * (proposed.log_likelihood("sum") - current.log_likelihood("sum"))
    d_prior = lp_new - lp_cur
    return BayesFactor(d_lik + d_prior, d_lik, d_prior, current, proposed, lp_cur, lp_new)


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"likelihood_reduction must be one of {REDUCTIONS}, got {reduction!r}")


def resolve_likelihood_scale(reduction: str, scale: float | None, n: int) -> float:
    """The factor on the summed log likelihood: ``scale`` if given, else 1 (``sum``) or 1/N
    (``mean``). ``scale * n`` is the effective sample size of the gate."""
    _check_reduction(reduction)
    if scale is None:
        return 1.0 if reduction == "sum" else 1.0 / max(n, 1)
    if not 0.0 < float(scale) <= 1.0:
        raise ValueError(f"likelihood_scale must be in (0, 1], got {scale}")
    return float(scale)


def check_rates(rates: float | Sequence[float]) -> tuple[float, ...]:
    """Proposal rates as a tuple, largest first; a single number is the one-element list."""
    out = (float(rates),) if isinstance(rates, int | float) else tuple(float(r) for r in rates)
    if not out:
        raise ValueError("rates must hold at least one pruning rate")
    if any(not 0.0 < r < 1.0 for r in out):
        raise ValueError(f"every rate must be in (0, 1), got {list(out)}")
    if any(b >= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"rates must be strictly decreasing (largest first), got {list(out)}")
    return out


@dataclass(frozen=True)
class GateSettings:
    """The gate's settings (the ``method_b`` config block's ``rates``, ``beta``,
    ``prior_sigma2``, ``likelihood_reduction``, ``likelihood_scale``), checked on creation.

    ``rates``: proposal rates, largest first (a number is the one-element list); the gated
    methods step down the list each epoch until one passes, the ungated ones use the first.
    ``likelihood_scale`` (``None``: from ``likelihood_reduction``) multiplies the summed log
    likelihood.
    """

    rates: tuple[float, ...] = (0.75,)
    beta: float = 3.0
    prior_sigma2: float = 1.0
    likelihood_reduction: str = "sum"
    likelihood_scale: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rates", check_rates(self.rates))
        _check_reduction(self.likelihood_reduction)
        if self.likelihood_scale is not None:
            resolve_likelihood_scale(self.likelihood_reduction, self.likelihood_scale, 1)
        if self.beta <= 0:
            raise ValueError(f"beta must be positive, got {self.beta}")
        if self.prior_sigma2 <= 0:
            raise ValueError(f"prior_sigma2 must be positive, got {self.prior_sigma2}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GateSettings:
        """From the ``method_b`` block (keys as in the config; values as given)."""
        return cls(
            rates=params["rates"],
            beta=params["beta"],
            prior_sigma2=params["prior_sigma2"],
            likelihood_reduction=params["likelihood_reduction"],
            likelihood_scale=params["likelihood_scale"],
        )

    def scale(self, n: int) -> float:
        """The factor on the summed log likelihood for ``n`` training examples."""
        return resolve_likelihood_scale(self.likelihood_reduction, self.likelihood_scale, n)


# --------------------------------------------------------------------------------------------
# The gate of one epoch
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOutcome:
    """One epoch's pruning decision as the history records it.

    ``train``: the training-set evaluation of the network that continues. ``rate``: the rate
    of the step kept (NaN: none). ``log_bf*``: of the last rate tried (NaN without a gate).
    ``tried``: ``(rate, log BF)`` of every rate the gate tried, in order.
    """

    train: Evaluation
    accepted: bool = False
    rate: float = NAN
    log_bf: float = NAN
    log_bf_likelihood: float = NAN
    log_bf_prior: float = NAN
    proposed_sparsity: float = NAN
    tried: tuple[tuple[float, float], ...] = ()
    gate_seconds: float = 0.0


@dataclass
class Gate:
    """The gate of one training run: its settings, the training set and the proposal RNG."""

    settings: GateSettings
    criterion: str  # of the proposals: random or magnitude
    X: torch.Tensor
    y: torch.Tensor
    generator: torch.Generator = field(repr=False)
    min_alive: int = 1
    batch_size: int = 2048

    def step(self, model: nn.Module, current: Evaluation, optimizer: Any) -> StepOutcome:
        """Propose the rates largest first; prune ``model`` by the first that passes.

        ``current``: the evaluation of ``model`` on the training set (it doubles as the
        training metrics when no step passes).
        """
        t0 = time.perf_counter()
        s = self.settings
        scale = s.scale(len(self.X))
        now = mn.sparsity(model)
        out: dict[str, Any] = {"train": current}
        tried: list[tuple[float, float]] = []
        for r in s.rates:  # largest first; the first step that passes the gate is kept
            proposal = propose_masks(model, r, self.criterion, self.generator, self.min_alive)
            out["proposed_sparsity"] = masks_sparsity(proposal)
            if out["proposed_sparsity"] <= now:  # nothing left to remove: m' == m, log BF = 0
                out.update(log_bf=0.0, log_bf_likelihood=0.0, log_bf_prior=0.0)
                tried.append((r, 0.0))
                break
            bf = log_bayes_factor(
                model, proposal, self.X, self.y, s.prior_sigma2, s.likelihood_reduction,
                self.batch_size, current, scale,
            )  # fmt: skip
            out.update(
                log_bf=bf.log_bf, log_bf_likelihood=bf.log_bf_likelihood,
                log_bf_prior=bf.log_bf_prior,
            )  # fmt: skip
            tried.append((r, bf.log_bf))
            if bf.accept(s.beta):
                prune_(model, proposal, optimizer)
                out.update(accepted=True, rate=r, train=bf.proposed)
                break
        seconds = time.perf_counter() - t0
        return StepOutcome(**out, tried=tuple(tried), gate_seconds=seconds)


def rates_tried_text(tried: Sequence[tuple[float, float]]) -> str:
    """The ``rates_tried`` history entry: ``rate:logBF`` pairs joined by ``;``."""
    return ";".join(f"{r:g}:{lb:.6g}" for r, lb in tried)


def parse_rates_tried(text: str) -> list[tuple[float, float]]:
    """``[(rate, log BF), ...]`` from a ``rates_tried`` history entry (empty: none tried)."""
    if not isinstance(text, str) or not text:
        return []
    out = []
    for part in text.split(";"):
        r, lb = part.split(":")
        out.append((float(r), float(lb)))
    return out
