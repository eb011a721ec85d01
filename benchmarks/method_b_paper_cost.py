"""Projected cost of method B on the paper's full datasets (MNIST, Fashion-MNIST, CIFAR-10).

Those files are not offline here, so this times the paper's networks on random data of the
same shapes: LeNet-300-100 on 28x28 images (MNIST, Fashion-MNIST: 60,000 train / 10,000
test) and the CNN of ``config/paper.yaml`` on 3x32x32 images (CIFAR-10: 50,000 / 10,000).
Arithmetic does not depend on the pixel values, so the time per training image does not
either. For each network it trains ``bayes_magnitude`` (the gated method: training plus the
gate's extra full-training-set pass) for ``--epochs`` epochs on ``--n-train`` images, takes the
median epoch, scales it linearly to the full training set, and multiplies by the paper
config's 25 epochs and 6 methods.

Run: ``.venv/bin/python benchmarks/method_b_paper_cost.py`` (about 1-2 minutes on 2 CPU
cores); ``--device cuda`` on a GPU machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bayesprune.masked_networks import MaskedNetworkSpec
from bayesprune.sparse_training import METHODS, TrainSettings, train_method

PAPER = {
    # name: (image shape, training images, network of config/paper.yaml)
    "mnist / fashion_mnist": (
        (1, 28, 28),
        60_000,
        MaskedNetworkSpec("mlp", (300, 100), hidden_activation="relu"),
    ),
    "cifar10": (
        (3, 32, 32),
        50_000,
        MaskedNetworkSpec("cnn", (128,), (32, 64), hidden_activation="relu"),
    ),
}
EPOCHS_PER_RUN = 25  # config/paper.yaml method_b.train.epochs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=4000, help="images timed per network")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"# bayes_magnitude, batch 64, {args.n_train} random images, {args.threads} threads, "
        f"device {args.device}; projected to the full training sets"
    )
    print(
        f"{'data':24s} {'s/epoch timed':>13s} {'s/epoch full':>13s} {'one run':>9s} {'6 runs':>9s}"
    )
    for name, (shape, n_full, net) in PAPER.items():
        X = rng.random((args.n_train, *shape), dtype=np.float32)
        y = rng.integers(0, 10, args.n_train)
        Xte, yte = X[:500], y[:500]
        t0 = time.perf_counter()
        split = {"X_train": X, "y_train": y, "X_test": Xte, "y_test": yte}
        h = train_method(
            "bayes_magnitude",
            split,
            net,
            TrainSettings(epochs=args.epochs),
            threads=args.threads,
            device=args.device,
            n_classes=10,
        ).history
        wall = time.perf_counter() - t0
        epoch = statistics.median(h["epoch_seconds"])
        full = epoch * n_full / args.n_train
        run = full * EPOCHS_PER_RUN
        print(
            f"{name:24s} {epoch:13.2f} {full:13.1f} {run / 60:7.1f} min "
            f"{len(METHODS) * run / 3600:7.2f} h   (timed run {wall:.0f} s)"
        )


if __name__ == "__main__":
    main()
