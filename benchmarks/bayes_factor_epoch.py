"""Cost of the Bayes-factor gate per epoch, and what each method-B method reaches on real MNIST.

LeNet-300-100 on the 10,000 real MNIST test images (the only MNIST files kept offline),
split 8,000 train / 2,000 test (seeded), Adam lr 1e-3, batch 64.

1. Epoch time of ``unpruned`` vs ``bayes_magnitude`` (the gate: one proposal plus one extra
   full-training-set forward pass per epoch), median over epochs, with 1 and 2 threads.
   Target: the gate adds at most 25%.
2. Test accuracy and sparsity of every method after ``--epochs`` epochs (sum reduction; the
   two gated methods also with the mean reduction), and ``bayes_magnitude`` at smaller rates.

Run: ``.venv/bin/python benchmarks/bayes_factor_epoch.py`` (about 1-2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bayesprune.bayes_factor import GateSettings
from bayesprune.masked_networks import MaskedNetworkSpec
from bayesprune.sparse_training import METHODS, TrainSettings, train_method

MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "mnist"
LENET = MaskedNetworkSpec("mlp", (300, 100), hidden_activation="relu")


def read_idx_gz(path: Path) -> np.ndarray:
    """Read an IDX file (gzip-compressed): big-endian dims after a 4-byte magic number."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(folder: Path, seed: int = 0) -> tuple[np.ndarray, ...]:
    X = read_idx_gz(folder / "t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    y = read_idx_gz(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(y))
    tr, te = idx[:8000], idx[8000:]
    return X[tr], y[tr], X[te], y[te]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-dir", type=Path, default=MNIST.resolve())
    ap.add_argument("--timing-epochs", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=8, help="epochs for the accuracy table")
    ap.add_argument("--rate", type=float, default=0.75)
    ap.add_argument("--beta", type=float, default=3.0)
    ap.add_argument("--prior-sigma2", type=float, default=1.0)
    ap.add_argument("--sweep-rates", type=float, nargs="*", default=[0.1, 0.25])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    Xtr, ytr, Xte, yte = load_split(args.mnist_dir)
    split = {"X_train": Xtr, "y_train": ytr, "X_test": Xte, "y_test": yte}
    gate = GateSettings([args.rate], args.beta, args.prior_sigma2, "sum")
    timing = TrainSettings(epochs=args.timing_epochs, batch_size=64, lr=1e-3)
    train = replace(timing, epochs=args.epochs)
    common = dict(seed=0, device=args.device)
    report: dict = {"timing": {}, "methods": {}}

    print(f"# epoch time, LeNet-300-100, {len(ytr)} train / {len(yte)} test, batch 64")
    for threads in (1, 2):
        times: dict[str, list[float]] = {"unpruned": [], "bayes_magnitude": []}
        gate: list[float] = []
        for _ in range(2):  # alternate the two methods: the machine is shared
            for method in times:
                h = train_method(
                    method, split, LENET, timing, gate, threads=threads, **common
                ).history
                times[method] += list(h["epoch_seconds"])
                if method == "bayes_magnitude":
                    gate += list(h["gate_seconds"])
        t_un = statistics.median(times["unpruned"])
        t_bf = statistics.median(times["bayes_magnitude"])
        t_gate = statistics.median(gate)
        overhead = 100.0 * (t_bf / t_un - 1.0)
        print(
            f"threads={threads}: unpruned {t_un:.3f} s/epoch, bayes_magnitude {t_bf:.3f} "
            f"s/epoch, gate alone {t_gate:.3f} s -> overhead {overhead:+.1f}% "
            f"(gate/unpruned {100 * t_gate / t_un:.1f}%; target <= 25%)"
        )
        report["timing"][f"threads_{threads}"] = {
            "unpruned_epoch_s": t_un,
            "bayes_magnitude_epoch_s": t_bf,
            "gate_s": t_gate,
            "overhead_pct": overhead,
        }

    print(f"\n# accuracy after {args.epochs} epochs (rate {args.rate}, beta {args.beta}, sum)")
    print(
        f"{'method':18s} {'test_acc':>8s} {'sparsity':>9s} {'kept':>8s} {'accepted':>8s} {'s':>6s}"
    )
    final_sparsity = None
    runs = [(m, "sum") for m in METHODS] + [
        (m, "mean") for m in ("bayes_random", "bayes_magnitude")
    ]
    for method, reduction in runs:
        t0 = time.perf_counter()
        res = train_method(
            method,
            split,
            LENET,
            train,
            replace(gate, likelihood_reduction=reduction),
            threads=2,
            final_sparsity=final_sparsity,
            **common,
        )
        h, f = res.history, res.final
        if method == "bayes_magnitude" and reduction == "sum":
            final_sparsity = f["sparsity"]
        label = method if reduction == "sum" else f"{method} (mean)"
        print(
            f"{label:24s} {f['test_acc']:8.4f} {f['sparsity']:9.4f} {f['kept_params']:8d} "
            f"{f['accepted_steps']:8d} {time.perf_counter() - t0:6.1f}"
        )
        if method.startswith("bayes"):
            lb = ", ".join(f"{v:.3g}" for v in h["log_bf"])
            print(f"{'':24s} log BF per epoch: {lb}")
        report["methods"][label] = {
            k: f[k] for k in ("test_acc", "sparsity", "kept_params", "accepted_steps")
        }
    print(f"\n# bayes_magnitude (sum) at other rates, {args.epochs} epochs")
    for rate in args.sweep_rates:
        res = train_method(
            "bayes_magnitude", split, LENET, train, replace(gate, rates=[rate]), threads=2, **common
        )
        h, f = res.history, res.final
        lb = ", ".join(f"{v:.3g}" for v in h["log_bf"])
        print(
            f"rate {rate:5.2f}: test_acc {f['test_acc']:.4f} sparsity {f['sparsity']:.4f} "
            f"accepted {f['accepted_steps']}; log BF per epoch: {lb}"
        )
        report["methods"][f"bayes_magnitude rate {rate}"] = {
            k: f[k] for k in ("test_acc", "sparsity", "kept_params", "accepted_steps")
        }
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
