"""Method B: pruning during training, gated by Bayes factors (arXiv 2308.02451), and baselines.

A network (:mod:`bayesprune.masked_networks`) is trained with Adam. At the end of every epoch
a pruning step is proposed: the proposed mask ``m'`` removes a fraction ``rate`` of the
weights still alive in each layer (biases are never pruned), either uniformly at random or
the smallest ``|w|``. The number removed from a layer with ``a`` alive weights is
``ceil(rate * a)``, capped so that at least ``min_alive`` (default 1) weights stay in every
layer (a layer is never fully disconnected). Masks are cumulative: entries only ever go from
1 to 0.

Bayes factor gate
-----------------
The log posterior of a mask ``m`` (up to the evidence, which cancels) is::

    log post(m) = log p(D | w * m) + log p(w * m)

* ``log p(D | w * m)``: the categorical log likelihood of the FULL training set, network in
  eval mode, computed in large no-grad batches (never one mini-batch). With
  ``likelihood_reduction: sum`` (the paper's posterior) it is the sum over the N examples;
  with ``mean`` it is divided by N.
* ``log p(w * m)``: a Gaussian prior ``N(0, prior_sigma2)`` on EVERY parameter, weights and
  biases alike; pruned weights enter as 0, so the dimension never changes. Biases are never
  pruned, so their prior terms (and the normalising constant) cancel in the Bayes factor;
  including them only makes the logged log prior a proper density of the whole network.

``log BF = log post(m') - log post(m)``, split into ``log_bf_likelihood`` and
``log_bf_prior`` (``= sum of w^2 over the removed weights / (2 prior_sigma2) >= 0``). The step
is accepted when ``log BF > log(beta)``.

With the ``sum`` reduction ``log BF ~ -N * (change in the training loss) + prior term``, so
the gate accepts a step only when it barely hurts the fit. With ``mean`` the likelihood term
shrinks by a factor N and the (always positive) prior term dominates, so nearly every step is
accepted: that is the practical difference between the two reductions.

Methods
-------
``unpruned``; ``bayes_random`` / ``bayes_magnitude`` (gated); ``random`` / ``magnitude``
(same ``rate``, no gate: every epoch's step is applied); ``gradual_magnitude`` (Zhu & Gupta
2017): at the end of epoch ``t`` of ``T`` every layer is magnitude-pruned to sparsity
``s_t = s_f (1 - (1 - t/T)^3)``, with ``s_f = final_sparsity`` (the workflow passes the
sparsity the ``bayes_magnitude`` run reached).

Training keeps pruned weights at exactly 0: once anything is pruned, gradients of pruned
weights are zeroed before every Adam step, Adam's moment estimates are zeroed for entries
when they are pruned (so their update is exactly 0) and the masks are re-applied after every
step. While a method runs, ``torch.set_flush_denormal(True)`` is on (and switched off after):
Adam moments of weights that no longer get gradient decay into subnormal floats, which made
CPU epochs up to 10x slower.

Per-epoch history (one row per epoch, all measured after that epoch's pruning decision, i.e.
on the network that continues training):

    epoch, train_loss, train_acc, test_loss, test_acc, sparsity, n_kept, kept_params,
    log_bf, log_bf_likelihood, log_bf_prior, accepted, proposed_sparsity, epoch_seconds,
    gate_seconds

``train_*`` are full-training-set eval-mode metrics (mean cross-entropy, accuracy). For the
gated methods the evaluation of the current mask that the Bayes factor needs doubles as the
training metrics (and, when the step is accepted, the evaluation of the proposed mask does),
so the gate costs one extra full forward pass over the training set per epoch
(``gate_seconds``). ``sparsity`` and ``n_kept`` count prunable weights, ``kept_params`` all
parameters. ``log_bf*`` are NaN for methods without a gate; ``accepted`` is False for
``unpruned`` and True for the ungated methods whenever their step removed weights;
``proposed_sparsity`` is NaN for ``unpruned``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from bayesprune import masked_networks as mn

METHODS = (
    "unpruned",
    "bayes_random",
    "bayes_magnitude",
    "random",
    "magnitude",
    "gradual_magnitude",
    "oneshot_magnitude",
)
GATED = {"bayes_random": "random", "bayes_magnitude": "magnitude"}
UNGATED = {"random": "random", "magnitude": "magnitude"}
MATCHED = ("gradual_magnitude", "oneshot_magnitude")  # need a target sparsity
CRITERIA = ("random", "magnitude")
REDUCTIONS = ("sum", "mean")
HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "sparsity",
    "n_kept",
    "kept_params",
    "log_bf",
    "log_bf_likelihood",
    "log_bf_prior",
    "accepted",
    "proposed_sparsity",
    "rate",
    "rates_tried",
    "epoch_seconds",
    "gate_seconds",
)
LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Evaluation, log prior, log likelihood, Bayes factor
# --------------------------------------------------------------------------------------------


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
# Proposals and schedules
# --------------------------------------------------------------------------------------------


def n_to_prune(alive: int, rate: float, min_alive: int = 1) -> int:
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
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
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
        k = n_to_prune(int(m.sum().item()), rate, min_alive)
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


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@dataclass
class MethodResult:
    """What :func:`train_method` returns: per-epoch history, final summary, trained model."""

    history: pd.DataFrame
    final: dict[str, Any]
    model: nn.Module = field(repr=False)


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


def _as_tensor(a: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    return t.to(device=device, dtype=dtype)


def _seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds for initialisation, batch shuffling and random proposals."""
    a, b, c = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(3))
    return a, b, c


def train_method(
    method: str,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    network_cfg: Mapping[str, Any],
    epochs: int = 25,
    batch_size: int = 64,
    lr: float = 1e-3,
    rates: float | Sequence[float] = (0.75,),
    beta: float = 3.0,
    prior_sigma2: float = 1.0,
    likelihood_reduction: str = "sum",
    seed: int = 0,
    final_sparsity: float | None = None,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    log: Callable[[str], Any] | None = None,
    eval_batch_size: int = 2048,
    min_alive: int = 1,
    n_classes: int | None = None,
    likelihood_scale: float | None = None,
    oneshot_epoch: int | None = None,
) -> MethodResult:
    """Train one method (see the module docstring) and return history, summary and model.

    ``X_*``: float32 arrays ``(N, D)`` or ``(N, C, H, W)``; ``y_*``: int class labels.
    ``rates``: proposal rates, largest first (a number is the one-element list); the gated
    methods step down the list each epoch until one passes, the ungated ones use the first.
    ``likelihood_scale`` (``None``: from ``likelihood_reduction``) multiplies the summed log
    likelihood in the gate. ``final_sparsity``: the target of ``gradual_magnitude`` and
    ``oneshot_magnitude``; ``oneshot_epoch`` (default ``max(1, epochs // 2)``): the epoch at
    whose end ``oneshot_magnitude`` prunes.
    ``seed`` fixes the initial network (the same for every method), the batch order and the
    random proposals, so the same seed and arguments give the same history (on CPU).
    ``threads`` sets ``torch.set_num_threads`` for the duration of the call.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    rates = check_rates(rates)
    scale = resolve_likelihood_scale(likelihood_reduction, likelihood_scale, len(X_train))
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if prior_sigma2 <= 0:
        raise ValueError(f"prior_sigma2 must be positive, got {prior_sigma2}")
    if method in MATCHED:
        if final_sparsity is None:
            raise ValueError(
                f"{method} needs final_sparsity (the sparsity bayes_magnitude reached)"
            )
        if not 0.0 <= final_sparsity < 1.0:
            raise ValueError(f"final_sparsity must be in [0, 1), got {final_sparsity}")
    if oneshot_epoch is None:
        oneshot_epoch = max(1, epochs // 2)
    prev_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    # Adam moments of weights that stop receiving gradient (dead units) decay into subnormal
    # floats, which are ~10x slower on CPU: flush them to zero while training.
    torch.set_flush_denormal(True)
    try:
        return _train(
            method,
            X_train,
            y_train,
            X_test,
            y_test,
            network_cfg,
            epochs,
            batch_size,
            lr,
            rates,
            beta,
            prior_sigma2,
            likelihood_reduction,
            scale,
            seed,
            final_sparsity,
            int(oneshot_epoch),
            torch.device(device),
            log,
            eval_batch_size,
            min_alive,
            n_classes,
        )
    finally:
        torch.set_num_threads(prev_threads)
        torch.set_flush_denormal(False)


def _tried_text(tried: Sequence[tuple[float, float]]) -> str:
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


def _train(
    method: str,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    network_cfg: Mapping[str, Any],
    epochs: int,
    batch_size: int,
    lr: float,
    rates: tuple[float, ...],
    beta: float,
    prior_sigma2: float,
    reduction: str,
    scale: float,
    seed: int,
    final_sparsity: float | None,
    oneshot_epoch: int,
    device: torch.device,
    log: Callable[[str], Any] | None,
    eval_batch_size: int,
    min_alive: int,
    n_classes: int | None,
) -> MethodResult:
    t_start = time.perf_counter()
    Xtr = _as_tensor(X_train, torch.float32, device)
    ytr = _as_tensor(y_train, torch.int64, device)
    Xte = _as_tensor(X_test, torch.float32, device)
    yte = _as_tensor(y_test, torch.int64, device)
    if n_classes is None:
        n_classes = int(max(int(ytr.max()), int(yte.max()) if len(yte) else 0)) + 1
    seed_init, seed_shuffle, seed_prune = _seeds(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed_init)
        model = mn.build_network(network_cfg, tuple(Xtr.shape[1:]), n_classes)
    model.to(device)
    g_shuffle = torch.Generator().manual_seed(seed_shuffle)
    g_prune = torch.Generator().manual_seed(seed_prune)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    weights = [w for _, w, _ in mn.prunable(model)]
    masks = [m for _, _, m in mn.prunable(model)]
    masked = False  # mask ops in the training step only once something is pruned
    log_beta = math.log(beta)
    n_train = len(Xtr)
    rows = []
    nan = float("nan")

    def ev(X: torch.Tensor, y: torch.Tensor) -> Evaluation:
        return evaluate(model, X, y, eval_batch_size)

    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n_train, generator=g_shuffle).to(device)
        for i in range(0, n_train, batch_size):
            idx = perm[i : i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            loss.backward()
            if masked:  # grad *= mask: with zeroed Adam moments the update is exactly 0
                torch._foreach_mul_([w.grad for w in weights], masks)
            optimizer.step()
            if masked:  # and weights *= mask, so pruned weights are 0 whatever the optimiser
                with torch.no_grad():
                    torch._foreach_mul_(weights, masks)

        log_bf = d_lik = d_prior = nan
        accepted = False
        proposed_sparsity = nan
        kept_rate = nan
        tried: list[tuple[float, float]] = []
        gate_seconds = 0.0
        if method == "unpruned":
            train_ev = ev(Xtr, ytr)
        elif method in GATED:
            current = ev(Xtr, ytr)
            tg = time.perf_counter()
            now = mn.sparsity(model)
            train_ev = current
            for r in rates:  # largest first; the first step that passes the gate is kept
                proposal = propose_masks(model, r, GATED[method], g_prune, min_alive)
                proposed_sparsity = _masks_sparsity(proposal)
                if proposed_sparsity > now:
                    bf = log_bayes_factor(
                        model,
                        proposal,
                        Xtr,
                        ytr,
                        prior_sigma2,
                        reduction,
                        eval_batch_size,
                        current,
                        scale,
                    )
                    log_bf, d_lik, d_prior = bf.log_bf, bf.log_bf_likelihood, bf.log_bf_prior
                    tried.append((r, log_bf))
                    if log_bf > log_beta:
                        accepted, kept_rate = True, r
                        prune_(model, proposal, optimizer)
                        train_ev = bf.proposed
                        break
                else:  # nothing left to remove: m' == m, log BF = 0 (smaller rates too)
                    log_bf = d_lik = d_prior = 0.0
                    tried.append((r, 0.0))
                    break
            gate_seconds = time.perf_counter() - tg
        else:
            before = mn.sparsity(model)
            proposal = None
            if method == "gradual_magnitude":
                assert final_sparsity is not None
                target = cubic_sparsity(epoch, epochs, final_sparsity)
                proposal = magnitude_masks_at(model, target, min_alive)
            elif method == "oneshot_magnitude":
                assert final_sparsity is not None
                if epoch == oneshot_epoch:
                    proposal = magnitude_masks_at(model, final_sparsity, min_alive)
            else:
                kept_rate = rates[0]
                proposal = propose_masks(model, rates[0], UNGATED[method], g_prune, min_alive)
            if proposal is not None:
                proposed_sparsity = _masks_sparsity(proposal)
                prune_(model, proposal, optimizer)
                accepted = proposed_sparsity > before
            else:
                proposed_sparsity = before
            if not accepted:
                kept_rate = nan
            train_ev = ev(Xtr, ytr)
        masked = masked or mn.sparsity(model) > 0
        test_ev = ev(Xte, yte)
        row = {
            "epoch": epoch,
            "train_loss": train_ev.loss,
            "train_acc": train_ev.acc,
            "test_loss": test_ev.loss,
            "test_acc": test_ev.acc,
            "sparsity": mn.sparsity(model),
            "n_kept": mn.kept_weights(model),
            "kept_params": mn.kept_params(model),
            "log_bf": log_bf,
            "log_bf_likelihood": d_lik,
            "log_bf_prior": d_prior,
            "accepted": bool(accepted),
            "proposed_sparsity": proposed_sparsity,
            "rate": kept_rate,
            "rates_tried": _tried_text(tried),
            "epoch_seconds": time.perf_counter() - t0,
            "gate_seconds": gate_seconds,
        }
        rows.append(row)
        if log is not None:
            gate = f" tried [{row['rates_tried']}]" if tried else ""
            log(
                f"{method} epoch {epoch}/{epochs}: train_loss {row['train_loss']:.4f} "
                f"test_acc {row['test_acc']:.4f} sparsity {row['sparsity']:.4f} "
                f"log_bf {log_bf:.3g} accepted {row['accepted']}{gate} "
                f"({row['epoch_seconds']:.2f} s)"
            )

    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    history["accepted"] = history["accepted"].astype(bool)
    history["rates_tried"] = history["rates_tried"].astype(str)
    last = rows[-1] if rows else None
    if last is None:  # epochs == 0: evaluate the initial network
        tr, te = ev(Xtr, ytr), ev(Xte, yte)
        train_loss, train_acc, test_loss, test_acc = tr.loss, tr.acc, te.loss, te.acc
    else:
        train_loss, train_acc = last["train_loss"], last["train_acc"]
        test_loss, test_acc = last["test_loss"], last["test_acc"]
    dense_flops, sparse_flops = mn.flops(model, tuple(Xtr.shape[1:]))
    final = {
        "method": method,
        "test_acc": test_acc,
        "test_loss": test_loss,
        "train_acc": train_acc,
        "train_loss": train_loss,
        "sparsity": mn.sparsity(model),
        "param_sparsity": mn.param_sparsity(model),
        "kept_params": mn.kept_params(model),
        "kept_weights": mn.kept_weights(model),
        "n_params": mn.n_params(model),
        "n_weights": mn.n_weights(model),
        "compression": mn.n_params(model) / mn.kept_params(model),
        "dense_flops": dense_flops,
        "sparse_flops": sparse_flops,
        "layer_sparsity": mn.layer_sparsity(model),
        "epochs": epochs,
        "accepted_steps": int(history["accepted"].sum()),
        "rates": list(rates),
        "beta": beta,
        "prior_sigma2": prior_sigma2,
        "likelihood_reduction": reduction,
        "likelihood_scale": scale,
        "effective_sample_size": scale * n_train,
        "final_sparsity_target": final_sparsity if method in MATCHED else None,
        "seed": seed,
        "seconds": time.perf_counter() - t_start,
        "mean_epoch_seconds": float(history["epoch_seconds"].mean()) if rows else 0.0,
    }
    return MethodResult(history, final, model)


def _masks_sparsity(masks: Mapping[str, torch.Tensor]) -> float:
    total = sum(m.numel() for m in masks.values())
    kept = sum(int(m.sum().item()) for m in masks.values())
    return 1.0 - kept / total if total else 0.0


def run_method(*args: Any, **kwargs: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`train_method` (same arguments) without the model: ``(history, final)``."""
    res = train_method(*args, **kwargs)
    return res.history, res.final
