"""The chain runner: burn-in, adaptation, thinning, progress and checkpoints around one kernel.

:func:`run_chains` takes the target through :class:`Model` and the kernel through
:class:`Kernel` (the Langevin / random-walk kernel :class:`bayesprune.mcmc.kernel.KernelParams`
and the authors' SGD-epoch kernel :class:`bayesprune.mcmc.sgd_epoch.KernelSettings`). It draws
each chain's noise from its own stream (:mod:`bayesprune.mcmc.streams`: chain ``k``'s draws do
not depend on ``K``).

Checkpoints: with ``checkpoint`` set, the run (:class:`Run`) is written atomically
(:mod:`bayesprune.mcmc.checkpoint`) every ``checkpoint_every`` iterations and/or
``checkpoint_every_s`` seconds. If the file exists when the run starts and belongs to the same
run (same start, kernel, lengths, seed, adaptation and ``target_id``: a digest of the target
density that the caller supplies, e.g. of its data, prior and mask), the run resumes from it
and produces exactly the samples of an uninterrupted run; a checkpoint of a different run is
ignored (and overwritten). The file is left in place at the end (the caller removes it once
its outputs are safe).

Progress: ``progress`` (a callback, see :func:`logging_progress`) and/or ``logger`` get a
report every ``progress_every_s`` seconds (0: every iteration) and at the end.

Adaptation (``adapt=True``, off by default; :class:`Tuning`): during burn-in only, each chain
tunes a global multiplicative factor ``f`` on its kernel (``Kernel.scaled``) by dual averaging
on ``log f`` towards ``target_accept`` (:mod:`bayesprune.mcmc.adaptation`; ``adaptation``
overrides the other constants of :class:`DualAveraging`), driven by that chain's MH acceptance
probability. After burn-in each factor is frozen at its dual-averaging average, so every kept
draw comes from one fixed, valid MH kernel; ``ChainResult.step_scale`` holds the frozen
factors. ``metric="diagonal"`` (needs ``adapt`` and a :class:`KernelParams` kernel) also
preconditions each chain's kernel during burn-in (:class:`MetricState`); ``ChainResult.params``
then holds the final preconditioned per-chain kernel (before the factor) and
``ChainResult.metric`` the variances it came from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from bayesprune.mcmc import checkpoint as checkpoints
from bayesprune.mcmc.adaptation import (
    DualAveraging,
    DualAveragingState,
    MetricAdaptation,
    MetricState,
    Welford,
    accept_prob,
)
from bayesprune.mcmc.kernel import Info, KernelParams, StepNoise
from bayesprune.mcmc.model import Model
from bayesprune.mcmc.streams import BLOCK_SIZE, NoiseStream
from bayesprune.mcmc.trace import ChainResult, Progress, Schedule, Trace


class Kernel(Protocol):
    """A kernel as the runner drives it: pure ``init`` / ``step``, ``scaled`` by a per-chain
    factor (adaptation) and ``to_dict`` for the record (``ChainResult.params``)."""

    def init(self, position: np.ndarray, model: Any) -> Any: ...

    def step(self, state: Any, noise: StepNoise, model: Any) -> tuple[Any, Info]: ...

    def scaled(self, factor: np.ndarray) -> Kernel: ...

    def to_dict(self, model: Any) -> dict: ...


@dataclass
class Tuning:
    """The burn-in adaptation: dual averaging of the step factor and, with a diagonal metric,
    its windows (then the kernel must be a :class:`KernelParams`)."""

    settings: DualAveraging
    da: DualAveragingState
    windows: MetricAdaptation | None = None
    metric: MetricState | None = None

    def base(self, kernel: Kernel) -> Kernel:
        """The kernel the factor scales: the configured one, or its preconditioned copy."""
        return kernel if self.metric is None else self.metric.base

    def current(self, kernel: Kernel) -> Kernel:
        return self.base(kernel).scaled(self.da.factor)

    def update(
        self, kernel: Kernel, done: int, info: Info, position: np.ndarray, n_burn: int
    ) -> Kernel:
        """After burn-in iteration ``done`` (1-based), returning the kernel to use next."""
        self.da = self.settings.update(self.da, done, accept_prob(info))
        if self.metric is not None and self.windows is not None:
            assert isinstance(kernel, KernelParams)
            self.metric, ended = self.metric.update(
                self.windows, done, position, kernel, self.da.factor
            )
            if ended:
                self.da = self.settings.restart(self.da, done)
        if done == n_burn:
            self.da = self.settings.final(self.da)  # frozen from here on
        return self.current(kernel)

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"x": self.da.x, "h_bar": self.da.h_bar, "x_bar": self.da.x_bar}
        out["start"] = np.array(self.da.start)
        if self.metric is not None:
            m = self.metric
            out |= {"base_scale": m.base.scale, "base_drift": m.base.drift}
            out |= {"wf_count": np.array(m.welford.count), "wf_mean": m.welford.mean}
            out |= {"wf_m2": m.welford.m2}
            out["variance"] = np.zeros(0) if m.variance is None else m.variance
        return out

    def restore(self, a: dict[str, np.ndarray]) -> None:
        self.da = DualAveragingState(a["x"], a["h_bar"], a["x_bar"], int(a["start"]))
        if self.metric is not None:
            lp = self.metric.base.langevin_prob
            base = KernelParams(a["base_scale"], a["base_drift"], lp)
            welford = Welford(int(a["wf_count"]), a["wf_mean"], a["wf_m2"])
            variance = a["variance"] if a["variance"].size else None
            self.metric = MetricState(base, welford, variance)


def tuning_for(
    kernel: Kernel,
    n_chains: int,
    n_burn: int,
    adapt: bool,
    target_accept: float,
    adaptation: DualAveraging | None,
    metric: str,
) -> Tuning | None:
    """The adaptation a run asks for (None without), or an error for one it cannot do."""
    if metric not in ("identity", "diagonal"):
        raise ValueError(f"metric must be identity or diagonal, got {metric!r}")
    if metric == "diagonal" and not adapt:
        raise ValueError("metric='diagonal' adapts during burn-in: it needs adapt=True")
    if not adapt:
        return None
    if n_burn < 1:
        raise ValueError("step-size adaptation needs a burn-in of at least 1 iteration")
    settings = adaptation or DualAveraging(target_accept=float(target_accept))
    tuning = Tuning(settings, settings.init(n_chains))
    if metric == "diagonal":
        windows = MetricAdaptation(n_burn)
        if not windows.window_ends():
            raise ValueError(
                f"a burn-in of {n_burn} iterations is too short to estimate a diagonal metric"
            )
        if not isinstance(kernel, KernelParams):
            raise ValueError("a diagonal metric needs the Langevin / random-walk kernel")
        tuning.windows, tuning.metric = windows, MetricState.init(kernel, n_chains)
    return tuning


def fingerprint(
    x0: np.ndarray,
    record: dict,
    schedule: Schedule,
    seed: int,
    tuning: Tuning | None,
    target_id: str,
    metric: str,
) -> str:
    """The identity of a run (which checkpoint it may resume from)."""
    h = hashlib.sha256()
    h.update(target_id.encode())
    h.update(np.ascontiguousarray(x0, dtype=np.float64).tobytes())
    h.update(json.dumps(record, sort_keys=True).encode())
    n = [schedule.n_iter, schedule.n_burn, schedule.thin, int(seed), BLOCK_SIZE]
    h.update(json.dumps(n).encode())
    if tuning is not None:
        h.update(json.dumps(["adapt", *tuning.settings.to_list(), metric]).encode())
    return h.hexdigest()


@dataclass
class Run:
    """A run in progress: everything a checkpoint holds."""

    iteration: int
    state: Any
    trace: Trace
    noise: NoiseStream
    tuning: Tuning | None
    elapsed_before: float = 0.0

    def to_checkpoint(self, fp: str, schedule: Schedule, elapsed: float) -> checkpoints.Checkpoint:
        return checkpoints.Checkpoint(
            fp,
            self.iteration,
            elapsed,
            self.noise.block_start,
            self.noise.states,
            {f.name: getattr(self.state, f.name) for f in fields(self.state)},
            self.trace.to_arrays(schedule.kept(self.iteration)),
            {} if self.tuning is None else self.tuning.to_arrays(),
        )

    def resume(self, ck: checkpoints.Checkpoint, seed: int) -> None:
        self.iteration, self.elapsed_before = ck.iteration, ck.elapsed_s
        self.state = type(self.state)(**ck.state)
        self.trace.restore(ck.trace)
        if self.tuning is not None:
            self.tuning.restore(ck.adaptation)
        K, d = self.state.position.shape
        self.noise = NoiseStream(seed, K, d, ck.block_start, ck.rng_states)


class Reporter:
    """Progress reports every ``every_s`` seconds (0: every iteration) and at the end."""

    def __init__(
        self, callback: Callable[[Progress], None] | None, every_s: float, run: Run, n_iter: int
    ) -> None:
        self.callback, self.every_s, self.n_iter = callback, every_s, n_iter
        self.t_start = self.last = time.perf_counter()
        self.it_start = run.iteration

    def elapsed(self, run: Run) -> float:
        return run.elapsed_before + time.perf_counter() - self.t_start

    def __call__(self, run: Run, schedule: Schedule, final: bool = False) -> None:
        now = time.perf_counter()
        if self.callback is None or (not final and now - self.last < self.every_s):
            return
        done, K = run.iteration, run.trace.n_diverging.shape[0]
        rate = K * (done - self.it_start) / max(now - self.t_start, 1e-9)
        acc = (run.trace.accepted_post + run.trace.accepted_burn) / max(done, 1)
        scale = None if run.tuning is None else run.tuning.da.factor
        n_div = int(run.trace.n_diverging.sum())
        elapsed = run.elapsed_before + now - self.t_start
        self.callback(
            Progress(done, self.n_iter, rate, acc, n_div, elapsed, scale, schedule.n_burn, K)
        )
        self.last = time.perf_counter()


def run_chains(
    model: Model,
    initial_position: np.ndarray,
    kernel: Kernel,
    n_iter: int,
    *,
    burn_in: float | int = 0.5,
    thin: int = 1,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    checkpoint_every_s: float | None = 300.0,
    target_id: str = "",
    progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 10.0,
    logger: logging.Logger | None = None,
    adapt: bool = False,
    target_accept: float = 0.5,
    adaptation: DualAveraging | None = None,
    metric: Literal["identity", "diagonal"] = "identity",
) -> ChainResult:
    """Run ``K`` chains of ``kernel`` on ``model`` for ``n_iter`` iterations each from
    ``initial_position`` (K, d) and return the kept draws (iteration ``i``, 0-based, is kept
    when ``i >= burn_in`` and ``(i - burn_in) % thin == 0``; ``burn_in`` a fraction of
    ``n_iter`` or a count). Checkpoints (``checkpoint`` every ``checkpoint_every`` iterations
    and/or ``checkpoint_every_s`` seconds, ``target_id`` naming the target), progress
    (``progress`` and/or ``logger`` every ``progress_every_s`` seconds) and adaptation
    (``adapt``, ``target_accept``, ``adaptation``, ``metric``) as the module docstring says.
    """
    schedule = Schedule.of(n_iter, burn_in, thin)
    state = kernel.init(initial_position, model)
    K, d = state.position.shape
    tuning = tuning_for(kernel, K, schedule.n_burn, adapt, target_accept, adaptation, metric)
    run = Run(0, state, Trace.empty(K, schedule.n_keep, d), NoiseStream(seed, K, d), tuning)
    fp = fingerprint(
        state.position, kernel.to_dict(model), schedule, seed, tuning, target_id, metric
    )
    if checkpoint is not None and (ck := checkpoints.load(checkpoint, fp, logger)) is not None:
        run.resume(ck, seed)
    if logger is not None:
        progress = progress or logging_progress(logger)
        logger.info(
            _start_line(run, schedule, kernel, model, seed, adapt, target_accept, checkpoint)
        )
    report = Reporter(progress, progress_every_s, run, n_iter)
    saver = Saver(checkpoint, checkpoint_every, checkpoint_every_s, fp)
    current = kernel if tuning is None else tuning.current(kernel)
    while run.iteration < n_iter:
        it = run.iteration
        run.state, info = current.step(run.state, run.noise.at(it), model)
        run.trace.record(it, schedule, run.state, info)
        if tuning is not None and it < schedule.n_burn:
            current = tuning.update(kernel, it + 1, info, run.state.position, schedule.n_burn)
        run.iteration += 1
        if run.iteration < n_iter and saver.due(run.iteration):
            saver.save(run.to_checkpoint(fp, schedule, report.elapsed(run)))
        report(run, schedule)
    report(run, schedule, final=True)
    return _result(run, schedule, kernel, model, seed, report.elapsed(run))


class Saver:
    """Writes the run's checkpoint every ``every`` iterations and/or ``every_s`` seconds."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        every: int | None,
        every_s: float | None,
        fp: str,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.every, self.every_s, self.fp = every, every_s, fp
        self.last = time.perf_counter()

    def due(self, done: int) -> bool:
        if self.path is None:
            return False
        due = self.every is not None and done % self.every == 0
        return due or (self.every_s is not None and time.perf_counter() - self.last >= self.every_s)

    def save(self, ck: checkpoints.Checkpoint) -> None:
        assert self.path is not None
        checkpoints.save(self.path, ck)
        self.last = time.perf_counter()


def _result(
    run: Run, schedule: Schedule, kernel: Kernel, model: Model, seed: int, elapsed: float
) -> ChainResult:
    t, tuning = run.trace, run.tuning
    n_burn = schedule.n_burn
    base = kernel if tuning is None else tuning.base(kernel)
    return ChainResult(
        position=t.position,
        logdensity=t.logdensity,
        loglik=t.loglik,
        accepted=t.accepted,
        kernel=t.kernel,
        diverging=t.diverging,
        acceptance_rate=t.accepted_post / max(schedule.n_iter - n_burn, 1),
        acceptance_rate_burn_in=t.accepted_burn / max(n_burn, 1),
        n_diverging=t.n_diverging,
        n_iter=schedule.n_iter,
        burn_in=n_burn,
        thin=schedule.thin,
        seed=int(seed),
        final_state=run.state,
        elapsed_s=elapsed,
        n_theta=int(model.n_params),
        eta_index=model.eta_index,
        params=base.to_dict(model),
        step_scale=None if tuning is None else np.exp(tuning.da.x_bar),
        target_accept=None if tuning is None else tuning.settings.target_accept,
        metric=None if tuning is None or tuning.metric is None else tuning.metric.variance,
    )


def _start_line(
    run: Run,
    schedule: Schedule,
    kernel: Kernel,
    model: Model,
    seed: int,
    adapt: bool,
    target_accept: float,
    checkpoint: str | os.PathLike[str] | None,
) -> str:
    from bayesprune.progress import start_line

    K, d = run.state.position.shape
    theta_scale = np.asarray(kernel.to_dict(model)["scale"])[..., : model.n_params]
    return start_line(
        {
            "chains": K,
            "dim": d,
            "iterations": schedule.n_iter,
            "burn_in": schedule.n_burn,
            "thin": schedule.thin,
            "kept_per_chain": schedule.n_keep,
            "seed": seed,
            "step_size": f"{float(theta_scale.max()) if theta_scale.size else 0.0:.4g}",
            "langevin_prob": kernel.to_dict(model)["langevin_prob"],
            "adapt": bool(adapt),
            "target_accept": target_accept if adapt else "-",
            "resume_from": run.iteration,
            "checkpoint": checkpoint if checkpoint is not None else "none",
        }
    )


def logging_progress(
    logger: logging.Logger, level: int = logging.INFO
) -> Callable[[Progress], None]:
    """A progress callback that writes one line per report to ``logger``: phase, percent,
    chain-iterations/s, elapsed and ETA (:func:`bayesprune.progress.progress_line`), then
    acceptance, divergences and the adapted step factors."""
    from bayesprune.progress import progress_line

    def report(p: Progress) -> None:
        acc = ", ".join(f"{a:.3f}" for a in p.acceptance)
        scale = ""
        if p.step_scale is not None:
            scale = "  step scale [" + ", ".join(f"{f:.3g}" for f in p.step_scale) + "]"
        head = progress_line(
            p.iteration, p.n_iter, p.n_burn, p.chain_iters_per_s, p.n_chains, p.elapsed_s
        )
        logger.log(level, "%s  acceptance [%s]  diverging %d%s", head, acc, p.n_diverging, scale)

    return report
