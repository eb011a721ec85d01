"""Throughput of the method-A sampler (Langevin/random-walk MH, full-batch likelihood).

Chain-iterations per second of :func:`bayesprune.mcmc.runner.run_chains` (one target evaluation
with its hand-written gradient, plus the MH step, per chain-iteration) on synthetic data of
the paper's shapes:

* Abalone regression, network [8, 12, 1], 2,506 training rows, 4 chains (target >= 5,000/s);
* Iris classification, network [4, 12, 3], 90 training rows, 16 chains (target >= 50,000/s);

each in float64 and float32 network arithmetic, on 1 thread (torch and BLAS) and on 2, with
the sigmoid backend the workflow chooses for a full paper-length run.
The last columns compare with the FLOP bound: FLOPs of one forward + backward pass per
chain-iteration against a measured single-thread GEMM rate (512 x 512) on this machine.

Run: ``.venv/bin/python benchmarks/sampler_throughput.py [--iters N]`` (about 1 minute).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bayesprune.likelihoods import MLPPosterior, torch_sigmoid_pays
from bayesprune.mcmc import kernel as mh
from bayesprune.mcmc import runner, streams
from bayesprune.networks import MLPSpec

CASES = [
    # name, sizes, task, n_train, chains, target chain-iterations/s
    ("abalone", (8, 12, 1), "regression", 2506, 4, 5000),
    ("iris", (4, 12, 3), "classification", 90, 16, 50000),
]


PAPER_SAMPLES = 50_000  # config/paper.yaml method_a.sampler.samples


def flops_per_chain_iteration(sizes: tuple[int, ...], n: int) -> int:
    """Multiply-adds x 2 of forward (with bias) + backward (weight grads, hidden deltas)."""
    f = 0
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        f += 2 * n * (n_in + 1) * n_out  # forward
        f += 2 * n * (n_in + 1) * n_out  # weight + bias gradient
        if layer > 0:
            f += 2 * n * n_in * n_out  # delta to the previous layer
    return f


def gemm_gflops(dtype: type, size: int = 512, repeats: int = 20) -> float:
    a = np.random.default_rng(0).normal(size=(size, size)).astype(dtype)
    a @ a
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return 2 * size**3 * repeats / (time.perf_counter() - t0) / 1e9


def measure(sizes, task, n, chains, dtype, iters: int) -> float:
    rng = np.random.default_rng(1)
    spec = MLPSpec(sizes)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.normal(size=n) if task == "regression" else rng.integers(0, sizes[-1], n)
    # the sigmoid backend the workflow picks for the paper's full runs (50,000 iterations):
    # torch for Abalone, numpy for Iris
    fast = torch_sigmoid_pays(spec, n, chains, PAPER_SAMPLES, dtype=dtype)
    post = MLPPosterior(spec, X, y, task, dtype=dtype, torch_sigmoid=fast)
    x0 = streams.initial_positions(post, chains, seed=1, init="prior")
    params = mh.kernel_params_for(post, 0.025, 0.2)
    runner.run_chains(post, x0, params, 50, burn_in=0, seed=1)  # warm-up
    t0 = time.perf_counter()
    runner.run_chains(post, x0, params, iters, burn_in=0.5, seed=1, checkpoint_every_s=None)
    return chains * iters / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=2000, help="iterations per chain per run")
    args = parser.parse_args()
    gf = {}
    with threadpool_limits(1):
        torch.set_num_threads(1)
        for dt in (np.float64, np.float32):
            gf[dt] = gemm_gflops(dt)
    print(f"single-thread GEMM 512^3: float64 {gf[np.float64]:.1f} GFLOP/s, "
          f"float32 {gf[np.float32]:.1f} GFLOP/s")  # fmt: skip
    header = (
        f"{'case':8s} {'chains':>6s} {'dtype':>7s} {'threads':>7s} {'chain-it/s':>11s} "
        f"{'target':>7s} {'MFLOP/it':>8s} {'GFLOP/s':>8s} {'% GEMM':>7s}"
    )
    print(header)
    print("-" * len(header))
    for name, sizes, task, n, chains, target in CASES:
        mflop = flops_per_chain_iteration(sizes, n) / 1e6
        for threads in (1, 2):
            for dt in (np.float64, np.float32):
                with threadpool_limits(threads):
                    torch.set_num_threads(threads)
                    rate = measure(sizes, task, n, chains, dt, args.iters)
                achieved = rate * mflop / 1e3
                print(
                    f"{name:8s} {chains:6d} {np.dtype(dt).name:>7s} {threads:7d} {rate:11,.0f} "
                    f"{target:7,d} {mflop:8.3f} {achieved:8.2f} {100 * achieved / gf[dt]:6.1f}%"
                )
    torch.set_num_threads(1)


if __name__ == "__main__":
    main()
