"""Method B: training while pruning, one method at a time (gated and baselines).

A network (:mod:`bayesprune.masked_networks`) is trained with Adam. At the end of every epoch
a pruning step is proposed (:mod:`bayesprune.proposals`) and, for the gated methods, kept only
when its Bayes factor passes the gate (:mod:`bayesprune.bayes_factor`).

Methods
-------
``unpruned``; ``bayes_random`` / ``bayes_magnitude`` (gated); ``random`` / ``magnitude``
(same ``rate``, no gate: every epoch's step is applied); ``gradual_magnitude`` (Zhu & Gupta
2017): at the end of epoch ``t`` of ``T`` every layer is magnitude-pruned to sparsity
``s_t = s_f (1 - (1 - t/T)^3)``, with ``s_f = final_sparsity`` (the workflow passes the
sparsity the ``bayes_magnitude`` run reached); ``oneshot_magnitude``: dense until
``oneshot_epoch``, pruned once by magnitude to ``final_sparsity``, then fine-tuned.

Training keeps pruned weights at exactly 0: once anything is pruned, gradients of pruned
weights are zeroed before every Adam step, Adam's moment estimates are zeroed for entries
when they are pruned (so their update is exactly 0) and the masks are re-applied after every
step. While a method runs, ``torch.set_flush_denormal(True)`` is on (and switched off after):
Adam moments of weights that no longer get gradient decay into subnormal floats, which made
CPU epochs up to 10x slower.

Per-epoch history (one row per epoch, :data:`HISTORY_COLUMNS`, all measured after that
epoch's pruning decision, i.e. on the network that continues training). ``train_*`` are
full-training-set eval-mode metrics (mean cross-entropy, accuracy). For the gated methods the
evaluation of the current mask that the Bayes factor needs doubles as the training metrics
(and, when the step is accepted, the evaluation of the proposed mask does), so the gate costs
one extra full forward pass over the training set per epoch (``gate_seconds``). ``sparsity``
and ``n_kept`` count prunable weights, ``kept_params`` all parameters. ``log_bf*`` are NaN for
methods without a gate; ``accepted`` is False for ``unpruned`` and True for the ungated
methods whenever their step removed weights; ``proposed_sparsity`` is NaN for ``unpruned``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from bayesprune import masked_networks as mn
from bayesprune.bayes_factor import (
    Evaluation,
    Gate,
    GateSettings,
    StepOutcome,
    evaluate,
    rates_tried_text,
)
from bayesprune.proposals import (
    cubic_sparsity,
    magnitude_masks_at,
    masks_sparsity,
    propose_masks,
    prune_,
)

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


@dataclass(frozen=True)
class TrainSettings:
    """How a method-B network trains (the ``method_b.train`` config block).

    ``eval_batch_size``: batch of the full-set evaluations; ``min_alive``: weights every
    pruning step leaves in each layer.
    """

    epochs: int = 25
    batch_size: int = 64
    lr: float = 1e-3
    eval_batch_size: int = 2048
    min_alive: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TrainSettings:
        """From the ``method_b.train`` block (``epochs``, ``batch_size``, ``lr``)."""
        return cls(int(params["epochs"]), int(params["batch_size"]), float(params["lr"]))


@dataclass(frozen=True)
class MethodBSettings:
    """The settings of a ``bf_train`` job: training and gate."""

    train: TrainSettings
    gate: GateSettings

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> MethodBSettings:
        """From the ``method_b`` block without its lists (``train`` and the gate's keys)."""
        return cls(TrainSettings.from_params(params["train"]), GateSettings.from_params(params))


@dataclass
class MethodResult:
    """What :func:`train_method` returns: per-epoch history, final summary, trained model."""

    history: pd.DataFrame
    final: dict[str, Any]
    model: nn.Module = field(repr=False)


def _as_tensor(a: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    return t.to(device=device, dtype=dtype)


def _seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds for initialisation, batch shuffling and random proposals."""
    a, b, c = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(3))
    return a, b, c


def _check_method(method: str, final_sparsity: float | None) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method in MATCHED:
        if final_sparsity is None:
            raise ValueError(
                f"{method} needs final_sparsity (the sparsity bayes_magnitude reached)"
            )
        if not 0.0 <= final_sparsity < 1.0:
            raise ValueError(f"final_sparsity must be in [0, 1), got {final_sparsity}")


def train_method(
    method: str,
    split: Mapping[str, Any],
    network: mn.MaskedNetworkSpec,
    train: TrainSettings,
    gate: GateSettings | None = None,
    *,
    n_classes: int | None = None,
    seed: int = 0,
    final_sparsity: float | None = None,
    oneshot_epoch: int | None = None,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    log: Callable[[str], Any] | None = None,
) -> MethodResult:
    """Train one method (see the module docstring) and return history, summary and model.

    ``split``: ``X_train``, ``y_train``, ``X_test``, ``y_test`` (float32 arrays ``(N, D)`` or
    ``(N, C, H, W)``; int class labels). ``network``: the masked network. ``gate`` (default
    :class:`GateSettings`): also the ungated methods' rate (the first). ``final_sparsity``: the
    target of ``gradual_magnitude`` and ``oneshot_magnitude``; ``oneshot_epoch`` (default
    ``max(1, epochs // 2)``): the epoch at whose end ``oneshot_magnitude`` prunes. ``seed``
    fixes the initial network (the same for every method), the batch order and the random
    proposals, so the same seed and arguments give the same history (on CPU). ``threads``
    sets ``torch.set_num_threads`` for the duration of the call.
    """
    gate = GateSettings() if gate is None else gate
    _check_method(method, final_sparsity)
    if oneshot_epoch is None:
        oneshot_epoch = max(1, train.epochs // 2)
    prev_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    # Adam moments of weights that stop receiving gradient (dead units) decay into subnormal
    # floats, which are ~10x slower on CPU: flush them to zero while training.
    torch.set_flush_denormal(True)
    try:
        t_start = time.perf_counter()
        state = _setup(split, network, train.lr, n_classes, seed, torch.device(device))
        run = _Run(method, train, gate, seed, final_sparsity, int(oneshot_epoch), *state)
        rows = [run.epoch(epoch, log) for epoch in range(1, train.epochs + 1)]
        return run.result(rows, time.perf_counter() - t_start)
    finally:
        torch.set_num_threads(prev_threads)
        torch.set_flush_denormal(False)


def _setup(
    split: Mapping[str, Any],
    network: mn.MaskedNetworkSpec,
    lr: float,
    n_classes: int | None,
    seed: int,
    device: torch.device,
) -> tuple[Any, ...]:
    """Tensors on ``device``, the seeded initial network, Adam and the two generators."""
    Xtr, ytr, Xte, yte = (
        _as_tensor(split[k], torch.float32 if k[0] == "X" else torch.int64, device)
        for k in ("X_train", "y_train", "X_test", "y_test")
    )
    if n_classes is None:
        n_classes = int(max(int(ytr.max()), int(yte.max()) if len(yte) else 0)) + 1
    seed_init, seed_shuffle, seed_prune = _seeds(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed_init)
        model = mn.build_network(network, tuple(Xtr.shape[1:]), n_classes)
    model.to(device)
    g_shuffle = torch.Generator().manual_seed(seed_shuffle)
    g_prune = torch.Generator().manual_seed(seed_prune)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return (Xtr, ytr, Xte, yte), model, optimizer, g_shuffle, g_prune


@dataclass
class _Run:
    """The state of one method's training: data, network, optimiser and RNGs."""

    method: str
    train: TrainSettings
    gate: GateSettings
    seed: int
    final_sparsity: float | None
    oneshot_epoch: int
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # Xtr, ytr, Xte, yte
    model: nn.Module
    optimizer: torch.optim.Optimizer
    g_shuffle: torch.Generator
    g_prune: torch.Generator
    masked: bool = False  # mask ops in the training step only once something is pruned

    def evaluate(self, X: torch.Tensor, y: torch.Tensor) -> Evaluation:
        return evaluate(self.model, X, y, self.train.eval_batch_size)

    def train_epoch(self) -> None:
        """One pass of Adam over the shuffled training set (pruned weights kept at 0)."""
        Xtr, ytr, _, _ = self.data
        model, optimizer, n_train = self.model, self.optimizer, len(Xtr)
        weights = [w for _, w, _ in mn.prunable(model)]
        masks = [m for _, _, m in mn.prunable(model)]
        model.train()
        perm = torch.randperm(n_train, generator=self.g_shuffle).to(Xtr.device)
        for i in range(0, n_train, self.train.batch_size):
            idx = perm[i : i + self.train.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            loss.backward()
            if self.masked:  # grad *= mask: with zeroed Adam moments the update is exactly 0
                torch._foreach_mul_([w.grad for w in weights], masks)
            optimizer.step()
            if self.masked:  # and weights *= mask, so pruned weights are 0 whatever the optimiser
                with torch.no_grad():
                    torch._foreach_mul_(weights, masks)

    def prune_step(self, epoch: int) -> StepOutcome:
        """The epoch's pruning decision, by method."""
        Xtr, ytr, _, _ = self.data
        if self.method == "unpruned":
            return StepOutcome(train=self.evaluate(Xtr, ytr))
        if self.method in GATED:
            current = self.evaluate(Xtr, ytr)
            gate = Gate(
                self.gate, GATED[self.method], Xtr, ytr, self.g_prune, self.train.min_alive,
                self.train.eval_batch_size,
            )  # fmt: skip
            return gate.step(self.model, current, self.optimizer)
        return self.baseline_step(epoch)

    def baseline_step(self, epoch: int) -> StepOutcome:
        """An ungated step: the first rate, the cubic schedule, or the one-shot prune."""
        model, min_alive = self.model, self.train.min_alive
        before = mn.sparsity(model)
        proposal, rate = None, math.nan
        if self.method == "gradual_magnitude":
            assert self.final_sparsity is not None
            target = cubic_sparsity(epoch, self.train.epochs, self.final_sparsity)
            proposal = magnitude_masks_at(model, target, min_alive)
        elif self.method == "oneshot_magnitude":
            assert self.final_sparsity is not None
            if epoch == self.oneshot_epoch:
                proposal = magnitude_masks_at(model, self.final_sparsity, min_alive)
        else:
            rate = self.gate.rates[0]
            crit = UNGATED[self.method]
            proposal = propose_masks(model, rate, crit, self.g_prune, min_alive)
        accepted, proposed = False, before
        if proposal is not None:
            proposed = masks_sparsity(proposal)
            prune_(model, proposal, self.optimizer)
            accepted = proposed > before
        Xtr, ytr, _, _ = self.data
        return StepOutcome(
            train=self.evaluate(Xtr, ytr), accepted=accepted,
            rate=rate if accepted else math.nan, proposed_sparsity=proposed,
        )  # fmt: skip

    def epoch(self, epoch: int, log: Callable[[str], Any] | None) -> dict[str, Any]:
        """Train one epoch, take its pruning decision; the history row."""
        t0 = time.perf_counter()
        self.train_epoch()
        step = self.prune_step(epoch)
        self.masked = self.masked or mn.sparsity(self.model) > 0
        _, _, Xte, yte = self.data
        row = _history_row(epoch, step, self.evaluate(Xte, yte), self.model)
        row["epoch_seconds"] = time.perf_counter() - t0
        if log is not None:
            log(_epoch_line(self.method, self.train.epochs, row, step))
        return row

    def result(self, rows: list[dict[str, Any]], seconds: float) -> MethodResult:
        """History, final summary and model."""
        history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
        history["accepted"] = history["accepted"].astype(bool)
        history["rates_tried"] = history["rates_tried"].astype(str)
        Xtr, ytr, Xte, yte = self.data
        if rows:
            last = rows[-1]
            metrics = {k: last[k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
        else:  # epochs == 0: evaluate the initial network
            tr, te = self.evaluate(Xtr, ytr), self.evaluate(Xte, yte)
            metrics = dict(train_loss=tr.loss, train_acc=tr.acc, test_loss=te.loss, test_acc=te.acc)
        final = _final_summary(self, history, metrics, seconds)
        return MethodResult(history, final, self.model)


def _history_row(
    epoch: int, step: StepOutcome, test: Evaluation, model: nn.Module
) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "train_loss": step.train.loss,
        "train_acc": step.train.acc,
        "test_loss": test.loss,
        "test_acc": test.acc,
        "sparsity": mn.sparsity(model),
        "n_kept": mn.kept_weights(model),
        "kept_params": mn.kept_params(model),
        "log_bf": step.log_bf,
        "log_bf_likelihood": step.log_bf_likelihood,
        "log_bf_prior": step.log_bf_prior,
        "accepted": bool(step.accepted),
        "proposed_sparsity": step.proposed_sparsity,
        "rate": step.rate,
        "rates_tried": rates_tried_text(step.tried),
        "epoch_seconds": math.nan,  # set by the caller once the epoch is over
        "gate_seconds": step.gate_seconds,
    }


def _epoch_line(method: str, epochs: int, row: Mapping[str, Any], step: StepOutcome) -> str:
    gate = f" tried [{row['rates_tried']}]" if step.tried else ""
    return (
        f"{method} epoch {row['epoch']}/{epochs}: train_loss {row['train_loss']:.4f} "
        f"test_acc {row['test_acc']:.4f} sparsity {row['sparsity']:.4f} "
        f"log_bf {step.log_bf:.3g} accepted {row['accepted']}{gate} "
        f"({row['epoch_seconds']:.2f} s)"
    )


def _final_summary(
    run: _Run, history: pd.DataFrame, metrics: Mapping[str, float], seconds: float
) -> dict[str, Any]:
    """``final.json``: the trained network's metrics, size and FLOPs, and the settings."""
    model, gate, n_train = run.model, run.gate, len(run.data[0])
    dense_flops, sparse_flops = mn.flops(model, tuple(run.data[0].shape[1:]))
    scale = gate.scale(n_train)
    return {
        "method": run.method,
        **metrics,
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
        "epochs": run.train.epochs,
        "accepted_steps": int(history["accepted"].sum()),
        "rates": list(gate.rates),
        "beta": gate.beta,
        "prior_sigma2": gate.prior_sigma2,
        "likelihood_reduction": gate.likelihood_reduction,
        "likelihood_scale": scale,
        "effective_sample_size": scale * n_train,
        "final_sparsity_target": run.final_sparsity if run.method in MATCHED else None,
        "seed": run.seed,
        "seconds": seconds,
        "mean_epoch_seconds": float(history["epoch_seconds"].mean()) if len(history) else 0.0,
    }
