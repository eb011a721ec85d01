"""Sampling efficiency of method A's kernels at equal wall time: ESS per second, R-hat.

For each dataset (the real replicate-0 split of config/paper.yaml, read with the package's
readers as the workflow does: ``benchmarks/bench_data.py``) and each sampler variant of
:data:`VARIANTS`, run ``K`` = 4 chains from the same start (``init: prior``, seed
``--seed``) for about ``--seconds`` of wall time each (after a short warm-up run, which
compiles whatever the variant's path needs, a pilot run of about 4% of that and at least a
second measures its iterations per second; ``--iterations`` fixes the
count instead; under contention the actual seconds still vary, ESS per second is what
compares), burn-in half (the paper's), thinned to about ``--keep`` kept draws per chain. Reported per run:

* seconds: the sampling call's wall time, burn-in included (BlackJAX: compilation excluded,
  given in a note);
* log-likelihood ESS (bulk, ``az.ess``) on the kept ``(chains, draws)`` and per second;
* prediction ESS per second: bulk ESS of the workflow's function-space quantity
  (``bayesprune.diagnostics.prediction_quantity``: the regression mean, or the probability of
  the true class) at ``--points`` fixed test points (``bayesprune.stages.function_points``),
  averaged over the points;
* log-likelihood R-hat (``az.rhat``, rank-normalised) and the largest prediction R-hat;
* ESS/s of loglik and of predictions as multiples of the first variant's on that dataset.

A variant is a dict: ``name``; optional ``backend`` (``bayesprune``, the default, or
``blackjax``); every other key is a keyword argument of one of ``MLPPosterior`` (e.g.
``dtype``), ``streams.initial_positions`` (e.g. ``init``), ``mh.kernel_params_for``
(e.g. ``step_size``, ``noise_step``, ``langevin_prob``) or ``runner.run_chains`` (e.g.
``adapt``, ``target_accept``, ``burn_in``) and goes to whichever of them accepts it (to each,
if several do). Adding a kernel is one line in :data:`VARIANTS`.

The ``blackjax`` backend runs ``blackjax.mala`` on the JAX copy of the same log density
(``benchmarks/jax_target.py``) with its step size (``step_size``: the proposal std ``s``, so
BlackJAX's ``h = s^2 / 2``) tuned per chain during burn-in by BlackJAX's dual averaging
towards ``target_accept`` (default 0.574) and frozen after. BlackJAX's ``window_adaptation``
needs a mass matrix, which its MALA lacks. Without jax (the workflow's ``.venv``) the variant
is skipped with a note; set up the peer venv as ``benchmarks/peer_blackjax.py`` describes.

Run: ``.venv/bin/python benchmarks/kernel_efficiency.py [--seconds 75 | --iterations N]
[--datasets abalone iris ionosphere]`` (one thread; about ``datasets x variants x
(seconds + pilot)``: some 20 minutes with the defaults' 3 datasets and 5 variants).
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bayesprune.likelihoods import MLPPosterior, PriorSettings, build_posterior  # noqa: E402
from bayesprune.mcmc import kernel as mh  # noqa: E402
from bayesprune.mcmc import runner, streams, trace

#: the sampler variants, one dict each (see the module docstring)
VARIANTS: list[dict[str, Any]] = [
    {"name": "paper kernel (s 0.025 fixed)", "step_size": 0.025},
    {"name": "adapted (adapt=True)", "step_size": 0.025, "adapt": True},
    {"name": "adapted MALA (langevin_prob 1)", "adapt": True, "langevin_prob": 1.0},
    {"name": "diagonal metric (adapt, metric=diagonal)", "adapt": True, "metric": "diagonal"},
    {"name": "BlackJAX MALA (dual averaging)", "backend": "blackjax", "step_size": 0.025},
]
DATASETS = ["abalone", "iris", "ionosphere"]
CHAINS = 4
STEP_SIZE = 0.025  # config/paper.yaml method_a.sampler.step_size, when a variant gives none
RESERVED = ("name", "backend")


@dataclass(frozen=True)
class Target:
    """A dataset's posterior as data: network, task, training rows, prior, test points."""

    name: str
    spec: Any
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    prior: dict[str, float]
    X_points: np.ndarray
    y_points: np.ndarray


@dataclass
class Draws:
    """What one run gives: kept ``theta`` (K, S, P), ``loglik`` (K, S), timing, acceptance."""

    theta: np.ndarray
    loglik: np.ndarray
    seconds: float
    iterations: int
    acceptance: float
    notes: list[str] = field(default_factory=list)


@dataclass
class Row:
    dataset: str
    variant: str
    iterations: int
    seconds: float
    acceptance: float
    ess_loglik: float
    ess_pred: float
    rhat_loglik: float
    rhat_pred_max: float
    ratio_loglik: float = math.nan
    ratio_pred: float = math.nan

    @property
    def ess_loglik_per_s(self) -> float:
        return self.ess_loglik / self.seconds

    @property
    def ess_pred_per_s(self) -> float:
        return self.ess_pred / self.seconds


def target_from_split(split: Any, n_points: int = 10) -> Target:
    """A :class:`Target` from a ``bench_data.Split`` with ``n_points`` fixed test points."""
    from bayesprune.stages import function_points

    pts = function_points(len(split.y_test), n_points)
    return Target(
        split.name,
        split.spec,
        split.task,
        np.asarray(split.X_train),
        np.asarray(split.y_train),
        dict(split.prior),
        np.asarray(split.X_test)[pts],
        np.asarray(split.y_test)[pts],
    )


def _accepted(fn: Callable) -> set[str]:
    return {
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def route(variant: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Split a variant's keys among ``posterior``, ``init``, ``kernel`` and ``run``."""
    targets = {
        "posterior": _accepted(MLPPosterior.__init__)
        - {"self", "spec", "X", "y", "task", "sigma2", "nu1", "nu2", "mask"},
        "init": _accepted(streams.initial_positions) - {"posterior", "n_chains", "seed"},
        "kernel": _accepted(mh.kernel_params_for) - {"posterior"},
        "run": _accepted(runner.run_chains)
        - {"model", "initial_position", "kernel", "n_iter", "seed"},
    }
    out: dict[str, dict[str, Any]] = {k: {} for k in targets}
    for key, value in variant.items():
        if key in RESERVED:
            continue
        homes = [k for k, names in targets.items() if key in names]
        if not homes:
            raise ValueError(
                f"variant {variant.get('name')!r}: {key!r} is not an argument of MLPPosterior, "
                f"initial_positions, kernel_params_for or run_chains"
            )
        for home in homes:
            out[home][key] = value
    out["kernel"].setdefault("step_size", STEP_SIZE)
    return out


def _thin(n_iter: int, burn_in: float | int, keep: int) -> tuple[int, int]:
    n_burn = trace.burn_in_count(n_iter, burn_in)
    return n_burn, max(1, (n_iter - n_burn) // keep)


def run_bayesprune(
    target: Target, variant: dict[str, Any], n_iter: int, chains: int, seed: int, keep: int
) -> Draws:
    """One run of bayesprune's sampler with the variant's arguments."""
    kw = route(variant)
    from bench_data import PAPER_SAMPLES, workflow_posterior

    post = workflow_posterior(target, chains, PAPER_SAMPLES, **kw["posterior"])
    x0 = streams.initial_positions(post, chains, seed, **{"init": "prior", **kw["init"]})
    params = mh.kernel_params_for(post, **kw["kernel"])
    run_kw = {"burn_in": 0.5, **kw["run"]}
    _, thin = _thin(n_iter, run_kw["burn_in"], keep)
    run_kw.setdefault("thin", thin)
    run_kw.setdefault("checkpoint_every_s", None)
    post(x0)  # compiled passes compile (and buffers fill) outside the timing
    t0 = time.perf_counter()
    res = runner.run_chains(post, x0, params, n_iter, seed=seed, **run_kw)
    seconds = time.perf_counter() - t0
    notes = []
    if res.step_scale is not None:
        notes.append("frozen step factors " + ", ".join(f"{f:.3g}" for f in res.step_scale))
    return Draws(res.theta, res.loglik, seconds, n_iter, float(np.mean(res.acceptance_rate)), notes)


class BlackjaxRunner:
    """BlackJAX MALA with per-chain dual-averaging step adaptation during burn-in.

    Compiled once per (target, dtype, chains, kept draws): burn-in length and thinning are
    run-time values, so the pilot run and the measured run share one compilation.
    """

    KEYS = ("name", "backend", "step_size", "target_accept", "dtype", "init", "burn_in")

    def __init__(self, target: Target, variant: dict[str, Any], chains: int, keep: int) -> None:
        import blackjax
        import jax
        import jax.numpy as jnp
        from blackjax.adaptation.step_size import dual_averaging_adaptation
        from jax_target import make_logdensity, set_jax_precision

        unknown = set(variant) - set(self.KEYS)
        if unknown:
            raise ValueError(
                f"variant {variant.get('name')!r}: the blackjax backend takes "
                f"{', '.join(self.KEYS)}, not {', '.join(sorted(unknown))}"
            )
        self.dtype = np.dtype(variant.get("dtype", "float64"))
        set_jax_precision(self.dtype)
        self.target, self.chains, self.keep = target, chains, keep
        self.ref = build_posterior(
            target.spec,
            target.X_train,
            target.y_train,
            target.task,
            PriorSettings.from_params(target.prior),
        )
        self.seed_init = variant.get("init", "prior")
        s = float(variant.get("step_size", STEP_SIZE))
        self.h0 = 0.5 * s * s
        self.burn_in = variant.get("burn_in", 0.5)
        ld = make_logdensity(
            target.spec, target.X_train, target.y_train, target.task, target.prior, self.dtype
        )
        kernel = blackjax.mala.build_kernel()
        da_init, da_update, da_final = dual_averaging_adaptation(
            float(variant.get("target_accept", 0.574))
        )
        h0 = self.h0

        def chain(key: Any, x0: Any, n_burn: Any, thin: Any) -> Any:
            k_burn, k_sample = jax.random.split(key)
            state = blackjax.mala.init(x0, ld)

            def burn(i: Any, carry: Any) -> Any:
                st, da, k = carry
                k, sub = jax.random.split(k)
                st, info = kernel(sub, st, ld, jnp.exp(da.log_step_size))
                rate = jnp.nan_to_num(info.acceptance_rate, nan=0.0)
                return st, da_update(da, rate), k

            state, da, _ = jax.lax.fori_loop(0, n_burn, burn, (state, da_init(h0), k_burn))
            h = da_final(da)

            def draw(carry: Any, _: Any) -> Any:
                def inner(i: Any, c: Any) -> Any:
                    st, k, acc = c
                    k, sub = jax.random.split(k)
                    st, info = kernel(sub, st, ld, h)
                    return st, k, acc + info.is_accepted

                st, k, acc = jax.lax.fori_loop(0, thin, inner, carry)
                return (st, k, acc), st.position

            (_, _, acc), pos = jax.lax.scan(
                draw, (state, k_sample, jnp.int32(0)), None, length=keep
            )
            return pos, h, acc

        self._run = jax.jit(jax.vmap(chain, in_axes=(0, 0, None, None)))
        self._jax = jax

    def __call__(self, n_iter: int, seed: int) -> Draws:
        jax = self._jax
        n_burn = trace.burn_in_count(n_iter, self.burn_in)
        thin = max(1, (n_iter - n_burn) // self.keep)
        x0 = streams.initial_positions(self.ref, self.chains, seed, init=self.seed_init)
        keys = jax.random.split(jax.random.key(seed), self.chains)
        xj = jax.numpy.asarray(x0.astype(self.dtype))
        t0 = time.perf_counter()
        pos, h, acc = jax.block_until_ready(self._run(keys, xj, n_burn, thin))
        seconds = time.perf_counter() - t0
        pos = np.asarray(pos, dtype=np.float64)
        P = self.target.spec.n_params
        loglik = np.stack([_loglik(self.ref, p) for p in pos])  # (K, S): the same target
        step = np.sqrt(2.0 * np.asarray(h, dtype=np.float64))
        return Draws(
            pos[..., :P],
            loglik,
            seconds,
            n_burn + self.keep * thin,
            float(np.mean(np.asarray(acc)) / (self.keep * thin)),
            ["frozen proposal std " + ", ".join(f"{x:.3g}" for x in step)],
        )


def _loglik(post: MLPPosterior, positions: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Log likelihood of many positions ``(S, dim)``, evaluated ``chunk`` at a time."""
    return np.concatenate(
        [post(positions[i : i + chunk]).loglik for i in range(0, len(positions), chunk)]
    )


def diagnostics(target: Target, draws: Draws) -> tuple[float, float, float, float]:
    """``(ESS loglik, mean prediction ESS, R-hat loglik, max prediction R-hat)``."""
    import arviz as az

    from bayesprune.diagnostics import prediction_quantity

    pred, _ = prediction_quantity(
        target.spec, target.task, draws.theta, target.X_points, target.y_points
    )
    flat = pred.reshape(-1, pred.shape[-1])
    pred = pred[..., np.ptp(flat, axis=0) > 0]  # constant predictions have no ESS
    ds = az.convert_to_dataset({"loglik": draws.loglik, "pred": pred})
    ess = az.ess(ds, method="bulk")
    rhat = az.rhat(ds)
    pred_ess = np.asarray(ess["pred"].values, dtype=np.float64)
    pred_rhat = np.asarray(rhat["pred"].values, dtype=np.float64)
    return (
        float(ess["loglik"].values),
        float(np.nanmean(pred_ess)) if pred_ess.size else math.nan,
        float(rhat["loglik"].values),
        float(np.nanmax(pred_rhat)) if pred_rhat.size else math.nan,
    )


def jax_available() -> bool:
    from jax_target import jax_available as available

    return available()


def measure(
    targets: Sequence[Target],
    variants: Sequence[dict[str, Any]],
    *,
    seconds: float | None = 75.0,
    iterations: int | None = None,
    chains: int = CHAINS,
    seed: int = 0,
    keep: int = 2000,
    pilot: int = 400,
    log: Callable[[str], None] = print,
) -> tuple[list[Row], list[str]]:
    """Run every variant on every target; return the table rows and notes.

    With ``iterations`` every run has that many iterations; otherwise each variant runs
    about ``seconds``, its count set from a ``pilot``-iteration run. Variants whose backend
    cannot be imported are skipped with a note.
    """
    if iterations is None and seconds is None:
        raise ValueError("give seconds or iterations")
    rows: list[Row] = []
    notes: list[str] = []
    for target in targets:
        first: Row | None = None
        for variant in variants:
            name = str(variant.get("name", variant))
            backend = variant.get("backend", "bayesprune")
            if backend == "blackjax":
                if not jax_available():
                    msg = (
                        f"{name}: skipped, jax/blackjax not importable (see requirements-peer.txt)"
                    )
                    if msg not in notes:
                        notes.append(msg)
                    continue
                runner = BlackjaxRunner(target, variant, chains, keep)

                def run(n: int, runner: BlackjaxRunner = runner) -> Draws:
                    return runner(n, seed)

            elif backend == "bayesprune":

                def run(
                    n: int, variant: dict[str, Any] = variant, target: Target = target
                ) -> Draws:
                    return run_bayesprune(target, variant, n, chains, seed, keep)

            else:
                raise ValueError(f"variant {name!r}: unknown backend {backend!r}")
            # a first short run compiles whatever the variant's path needs (numba, XLA) and
            # gives a rough rate; with a time budget a second pilot of about 4% (>= 1 s) of it
            # sets the count
            warm = run(max(pilot, keep + 2) if backend == "blackjax" else pilot)
            if backend == "blackjax":
                notes.append(
                    f"{target.name}, {name}: compile + first call {warm.seconds:.1f} s (excluded)"
                )
            n_iter = iterations
            if n_iter is None:
                assert seconds is not None
                want = max(1.0, 0.04 * seconds)
                rough = warm.iterations / max(warm.seconds, 1e-3)
                p = run(max(warm.iterations, int(want * rough)))
                n_iter = max(pilot, int(round(seconds * p.iterations / p.seconds, -2)))
            draws = run(n_iter)
            ess_ll, ess_pred, rhat_ll, rhat_pred = diagnostics(target, draws)
            row = Row(
                target.name,
                name,
                draws.iterations,
                draws.seconds,
                draws.acceptance,
                ess_ll,
                ess_pred,
                rhat_ll,
                rhat_pred,
            )
            first = first or row
            row.ratio_loglik = row.ess_loglik_per_s / first.ess_loglik_per_s
            row.ratio_pred = row.ess_pred_per_s / first.ess_pred_per_s
            rows.append(row)
            for n in draws.notes:
                notes.append(f"{target.name}, {name}: {n}")
            log(
                f"  {target.name} / {name}: {draws.iterations:,} iterations in "
                f"{draws.seconds:.1f} s, ESS loglik {ess_ll:.1f}, R-hat {rhat_ll:.3f}"
            )
    return rows, notes


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    header = [
        "dataset",
        "variant",
        "iterations",
        "seconds",
        "accept",
        "ESS loglik",
        "ESS/s loglik",
        "ESS/s pred",
        "R-hat loglik",
        "R-hat pred (max)",
        "x first (loglik)",
        "x first (pred)",
    ]
    lines = [header, ["---", "---"] + ["---:"] * (len(header) - 2)]
    for r in rows:
        lines.append(
            [
                r.dataset,
                r.variant,
                f"{r.iterations:,}",
                f"{r.seconds:.1f}",
                f"{r.acceptance:.3f}",
                f"{r.ess_loglik:.1f}",
                f"{r.ess_loglik_per_s:.3g}",
                f"{r.ess_pred_per_s:.3g}",
                f"{r.rhat_loglik:.3f}",
                f"{r.rhat_pred_max:.3f}",
                f"{r.ratio_loglik:.2f}",
                f"{r.ratio_pred:.2f}",
            ]
        )
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seconds", type=float, default=75.0, help="wall time per run")
    parser.add_argument("--iterations", type=int, default=None, help="fixed count instead")
    parser.add_argument("--chains", type=int, default=CHAINS)
    parser.add_argument("--keep", type=int, default=2000, help="kept draws per chain (thinning)")
    parser.add_argument("--points", type=int, default=10, help="test points for predictions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )
    from bench_data import load_split
    from threadpoolctl import threadpool_limits

    targets = [target_from_split(load_split(name), args.points) for name in args.datasets]
    with threadpool_limits(1):
        rows, notes = measure(
            targets,
            VARIANTS,
            seconds=None if args.iterations else args.seconds,
            iterations=args.iterations,
            chains=args.chains,
            seed=args.seed,
            keep=args.keep,
            log=lambda s: print(s, file=sys.stderr, flush=True),
        )
    budget = f"{args.iterations:,} iterations" if args.iterations else f"~{args.seconds:g} s"
    print(
        f"\n{args.chains} chains per run, {budget} each, burn-in half, about {args.keep:,} kept "
        f"draws per chain, same start (init: prior, seed {args.seed}); one thread; "
        f"prediction ESS: mean over {args.points} test points.\n"
    )
    print(markdown_table(rows))
    print()
    for n in notes:
        print(f"- {n}")


if __name__ == "__main__":
    main()
