"""bayesprune's sampler against BlackJAX MALA: chain-iterations per second on the same target.

Both samplers run the same log density on the same data, one core and one thread each:

* **bayesprune**: :func:`bayesprune.mcmc.runner.run_chains` on
  :class:`bayesprune.likelihoods.MLPPosterior` (all chains one numpy batch, hand-written
  gradient), built as the workflow builds it (``sample_network``: the paper config's prior, the
  torch-sigmoid choice of a paper-length run). Timed twice: with the paper's kernel
  (``langevin_prob`` 0.5: half the steps MALA, half random walk, ``eta`` always a random walk
  of std 0.2) and as pure MALA (``langevin_prob`` 1.0). Both evaluate value and gradient once
  per step, so their cost is nearly equal; the MALA one is the like-for-like comparison.
* **BlackJAX**: ``blackjax.mala`` on the JAX log density of ``benchmarks/jax_target.py``
  (asserted equal to ``MLPPosterior``'s, value and gradient, to 1e-12 relative in float64 at
  several random points before anything is timed), ``jax.jit`` of ``jax.vmap`` over chains of
  a ``lax.scan`` over iterations.

Same step: proposal std ``s`` = ``--step`` (0.025, the paper's) on every network parameter;
bayesprune's drift is ``s^2 / 2`` (textbook MALA), BlackJAX's ``step_size`` is that same
``s^2 / 2`` (its proposal is ``x + h grad + sqrt(2 h) xi``). BlackJAX moves ``eta`` with the
same isotropic step; that changes acceptance, not the cost of a step. Both keep every
iteration's position and log density (no burn-in, no thinning), start from the same prior draw
(``init: prior``) and run the same number of iterations. Compilation and warm-up are excluded;
rounds are interleaved (ours paper kernel, ours MALA, BlackJAX, repeated ``--rounds`` times)
and the table reports each one's median.

Cases: Abalone ([8, 12, 1], sigmoid hidden and sigmoid output as in config/paper.yaml, sampled
``eta = log tau^2``, 2,506 training rows, 4 chains) and Iris ([4, 12, 3], 90 rows, 16 chains),
each in float64 and float32. Data: the real replicate-0 splits of config/paper.yaml read with
the package's readers (``benchmarks/bench_data.py``, from the shared mirror), or with
``--synthetic`` random data of the same shapes (as ``benchmarks/sampler_throughput.py``).
float32 means network arithmetic in float32 for both (bayesprune keeps its sampler state and
sums in float64; JAX runs entirely in float32).

Threads: ``OMP/OPENBLAS/MKL_NUM_THREADS=1`` and
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` are set before
jax (or torch) is imported; numpy's BLAS is held to one thread by threadpoolctl and torch by
``torch.set_num_threads(1)``; ``--cpu N`` also pins the process to CPU ``N``.

Setup (never a workflow dependency):

    python3.11 -m venv .venv-peer
    .venv-peer/bin/pip install -r benchmarks/requirements-peer.txt
    .venv-peer/bin/pip install --no-deps -e .

Run: ``.venv-peer/bin/python benchmarks/peer_blackjax.py [--iters 2000] [--rounds 5]
[--quick] [--breakdown]`` (about 2 minutes; ``--quick`` about 30 s). ``--breakdown`` adds a
table of where a step's time goes: value and gradient alone against the whole step (best of
the rounds, as contention only ever adds time).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bayesprune.likelihoods import MLPPosterior  # noqa: E402
from bayesprune.mcmc import kernel as mh  # noqa: E402
from bayesprune.mcmc import runner, streams

XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


@dataclass(frozen=True)
class Case:
    name: str
    dataset: str
    sizes: tuple[int, ...]
    task: str
    output_activation: str
    n_train: int
    chains: int


CASES = [
    Case("Abalone", "abalone", (8, 12, 1), "regression", "sigmoid", 2506, 4),
    Case("Iris", "iris", (4, 12, 3), "classification", "identity", 90, 16),
]
DTYPES = (np.float64, np.float32)


def single_thread_environment(cpu: int | None = None) -> None:
    """One thread for every library; call before jax or torch is imported."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_ONE_THREAD}".strip()
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def load_case(case: Case, synthetic: bool) -> Any:
    """The case's split: real (config/paper.yaml, replicate 0) or synthetic of its shape."""
    from bench_data import load_split, synthetic_split

    if synthetic:
        return synthetic_split(
            case.dataset, case.sizes, case.task, case.n_train, 10, case.output_activation
        )
    split = load_split(case.dataset)
    if split.spec.sizes != case.sizes or len(split.y_train) != case.n_train:
        raise RuntimeError(
            f"{case.dataset}: the config gives network {split.spec.sizes} on "
            f"{len(split.y_train)} rows, the case expects {case.sizes} on {case.n_train}"
        )
    return split


def our_posterior(split: Any, dtype: Any, chains: int) -> MLPPosterior:
    """``MLPPosterior`` as ``bayesprune.sampling.sample_network`` builds it for a paper run."""
    from bench_data import PAPER_SAMPLES, workflow_posterior

    return workflow_posterior(split, chains, PAPER_SAMPLES, dtype=np.dtype(dtype))


def time_ours(post: MLPPosterior, x0: np.ndarray, params: Any, iters: int, seed: int) -> float:
    """Chain-iterations per second of one :func:`runner.run_chains` call (every draw kept)."""
    t0 = time.perf_counter()
    runner.run_chains(post, x0, params, iters, burn_in=0, seed=seed, checkpoint_every_s=None)
    return x0.shape[0] * iters / (time.perf_counter() - t0)


def blackjax_runner(logdensity: Callable, step_size: float, iters: int) -> Callable:
    """``run(key, x0) -> (positions, logdensities, accepted)``: jit(vmap(scan(mala.step)))."""
    import blackjax
    import jax

    mala = blackjax.mala(logdensity, step_size)

    def one_chain(key: Any, x0: Any) -> Any:
        def body(state: Any, k: Any) -> Any:
            state, info = mala.step(k, state)
            return state, (state.position, state.logdensity, info.is_accepted)

        _, out = jax.lax.scan(body, mala.init(x0), jax.random.split(key, iters))
        return out

    return jax.jit(jax.vmap(one_chain))


def time_peer(run: Callable, x0: Any, iters: int, seed: int) -> float:
    """Chain-iterations per second of one call of a :func:`blackjax_runner` function."""
    import jax

    keys = jax.random.split(jax.random.key(seed), x0.shape[0])
    t0 = time.perf_counter()
    jax.block_until_ready(run(keys, x0))
    return x0.shape[0] * iters / (time.perf_counter() - t0)


def breakdown(
    post: MLPPosterior,
    logdensity: Callable,
    x0: np.ndarray,
    dtype: Any,
    iters: int,
    repeats: int = 3,
) -> tuple[float, float]:
    """Microseconds per iteration of value + gradient alone, the best of ``repeats``: ours
    (a Python loop of ``post(x)``) and JAX (``jit(vmap(value_and_grad))`` in a ``lax.scan``)."""
    import jax
    import jax.numpy as jnp

    vg = jax.vmap(jax.value_and_grad(logdensity))

    def body(carry: Any, _: Any) -> Any:
        lp, g = vg(carry)
        return carry + 1e-9 * g, lp

    scan = jax.jit(lambda x: jax.lax.scan(body, x, None, length=iters))
    xj = jnp.asarray(x0.astype(dtype))
    jax.block_until_ready(scan(xj))  # compile
    x = x0.copy()
    post(x)
    ours, peer = math.inf, math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(iters):
            x[:, 0] = 1e-9 * i  # a fresh point every call, like the sampler
            post(x)
        ours = min(ours, (time.perf_counter() - t0) / iters * 1e6)
        t0 = time.perf_counter()
        jax.block_until_ready(scan(xj))
        peer = min(peer, (time.perf_counter() - t0) / iters * 1e6)
    return ours, peer


def markdown(rows: list[list[str]], header: list[str]) -> str:
    """A Markdown table (first column left-aligned, the rest right-aligned)."""
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(r) + " |" for r in lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=2000, help="iterations per timed run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per sampler")
    parser.add_argument("--step", type=float, default=0.025, help="proposal std s")
    parser.add_argument("--quick", action="store_true", help="--iters 300 --rounds 2")
    parser.add_argument("--synthetic", action="store_true", help="random data of the shapes")
    parser.add_argument("--breakdown", action="store_true", help="value+grad vs whole step")
    parser.add_argument("--cpu", type=int, default=None, help="pin the process to this CPU")
    args = parser.parse_args(argv)
    if args.quick:
        args.iters, args.rounds = 300, 2
    single_thread_environment(args.cpu)
    from jax_target import check_agreement, jax_available, make_logdensity, set_jax_precision

    if not jax_available():
        raise SystemExit(
            "jax/blackjax are not importable: set up the peer venv "
            "(benchmarks/requirements-peer.txt, see this script's docstring)"
        )
    import blackjax
    import jax

    rows, brk, notes = [], [], []
    h = 0.5 * args.step**2
    with threadpool_limits(1):
        for case in CASES:
            split = load_case(case, args.synthetic)
            K = case.chains
            # value and gradient agree with MLPPosterior's in float64 before anything is timed
            set_jax_precision(np.float64)
            ld64 = make_logdensity(
                split.spec, split.X_train, split.y_train, split.task, split.prior
            )
            ref = our_posterior(split, np.float64, K)
            pts = streams.initial_positions(ref, 6, seed=7, init="prior")
            pts = np.concatenate([pts, pts * 0.2, pts * 3.0])
            err = check_agreement(ref, ld64, pts, rtol=1e-12)
            notes.append(
                f"{case.name}: log density and gradient agree with MLPPosterior at "
                f"{len(pts)} points (largest relative error {err[0]:.1e} value, "
                f"{err[1]:.1e} gradient, float64)"
            )
            for dt in DTYPES:
                post = our_posterior(split, dt, K)
                x0 = streams.initial_positions(post, K, seed=1, init="prior")
                paper = mh.kernel_params_for(post, args.step, 0.2, langevin_prob=0.5)
                mala_params = mh.kernel_params_for(post, args.step, 0.2, langevin_prob=1.0)
                set_jax_precision(dt)
                ld = make_logdensity(
                    split.spec, split.X_train, split.y_train, split.task, split.prior, dt
                )
                run = blackjax_runner(ld, h, args.iters)
                xj = jax.numpy.asarray(x0.astype(dt))
                t0 = time.perf_counter()
                time_peer(run, xj, args.iters, 0)  # compile + first run
                compile_s = time.perf_counter() - t0
                time_ours(post, x0, paper, min(args.iters, 200), 0)  # warm-up (buffers)
                rates: dict[str, list[float]] = {"paper": [], "mala": [], "peer": []}
                for r in range(args.rounds):
                    rates["paper"].append(time_ours(post, x0, paper, args.iters, r + 1))
                    rates["mala"].append(time_ours(post, x0, mala_params, args.iters, r + 1))
                    rates["peer"].append(time_peer(run, xj, args.iters, r + 1))
                med = {k: statistics.median(v) for k, v in rates.items()}
                dname = np.dtype(dt).name
                rows.append(
                    [
                        f"{case.name} {list(case.sizes)}, {len(split.y_train):,} rows, {K} chains",
                        dname,
                        f"{med['paper']:,.0f}",
                        f"{med['mala']:,.0f}",
                        f"{med['peer']:,.0f}",
                        f"{med['mala'] / med['peer']:.2f}",
                        f"{med['paper'] / med['peer']:.2f}",
                        f"{compile_s:.1f}",
                    ]
                )
                print(f"  done {case.name} {dname}: " + ", ".join(
                    f"{k} {' '.join(f'{x:,.0f}' for x in v)}" for k, v in rates.items()
                ), file=sys.stderr, flush=True)  # fmt: skip
                if args.breakdown:
                    ours_us, jax_us = breakdown(post, ld, x0, dt, args.iters)
                    brk.append(
                        [
                            f"{case.name}, {K} chains",
                            dname,
                            f"{ours_us:.0f}",
                            f"{1e6 * K / max(rates['mala']):.0f}",
                            f"{jax_us:.0f}",
                            f"{1e6 * K / max(rates['peer']):.0f}",
                        ]
                    )
    data = "synthetic data of the shapes" if args.synthetic else "real data (config/paper.yaml)"
    print(
        f"\nChain-iterations per second, one core, one thread; {data}; step s = {args.step} "
        f"(BlackJAX step_size s^2/2 = {h:.4g}); {args.iters:,} iterations x {args.rounds} "
        f"interleaved rounds, median; jax {jax.__version__}, blackjax {blackjax.__version__}, "
        f"numpy {np.__version__}.\n"
    )
    print(
        markdown(
            rows,
            [
                "case",
                "dtype",
                "bayesprune paper kernel",
                "bayesprune MALA",
                "BlackJAX MALA",
                "ours MALA / peer",
                "ours paper / peer",
                "peer compile s",
            ],
        )
    )
    if brk:
        print(
            "\nMicroseconds per iteration (all chains), best of the rounds: value + gradient "
            "alone vs the whole MALA step.\n"
        )
        print(
            markdown(
                brk,
                ["case", "dtype", "ours value+grad", "ours step", "JAX value+grad", "JAX step"],
            )
        )
    print()
    for n in notes:
        print(f"- {n}")


if __name__ == "__main__":
    main()
