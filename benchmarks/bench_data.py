"""The benchmarks' data: one replicate's split of a method-A dataset, read as the workflow does.

The dataset entry, the mirror and method A's prior come from a config file (default
``config/paper.yaml``); the raw files are fetched (verified by sha256) into ``data/raw`` from
the config's mirror (``../shared/datasets`` beside the repository), parsed with
:func:`bayesprune.data.readers.read_dataset` and split and scaled with
:func:`bayesprune.data.splits.prepare_split` -- the same calls as ``workflow_scripts/prepare.py``, so
the rows are those of the workflow's ``data/processed/<dataset>/rep<r>.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.likelihoods import MLPPosterior
from bayesprune.networks import MLPSpec

REPO = Path(__file__).resolve().parent.parent
PAPER_CONFIG = REPO / "config" / "paper.yaml"


@dataclass(frozen=True)
class Split:
    """One replicate of a dataset with the network and prior the config gives it."""

    name: str
    task: str
    spec: MLPSpec
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    prior: dict[str, float]


def load_split(
    name: str,
    config: str | Path = PAPER_CONFIG,
    replicate: int = 0,
    mirror: str | Path | None = None,
) -> Split:
    """Replicate ``replicate`` of dataset ``name`` from ``config`` (its mirror unless given)."""
    from bayesprune.config import load_config_file
    from bayesprune.data.download import fetch_dataset
    from bayesprune.data.readers import read_dataset
    from bayesprune.data.splits import prepare_split

    cfg = load_config_file(config)
    entry = cfg["datasets"][name]
    if mirror is None and cfg.get("mirror"):
        mirror = REPO / str(cfg["mirror"])  # relative paths resolve from the repository root
    files = fetch_dataset(name, entry, REPO / "data" / "raw", mirror=mirror, retries=0)
    raw = read_dataset(name, entry, files)
    arrays, meta = prepare_split(name, entry, raw, replicate)
    spec = MLPSpec.from_config(meta["n_features"], meta["n_outputs"], entry["network"])
    return Split(
        name=name,
        task=meta["task"],
        spec=spec,
        X_train=arrays["X_train"],
        y_train=arrays["y_train"],
        X_test=arrays["X_test"],
        y_test=arrays["y_test"],
        prior=dict(cfg["method_a"]["prior"]),
    )


def synthetic_split(
    name: str,
    sizes: tuple[int, ...],
    task: str,
    n_train: int,
    n_test: int = 50,
    output_activation: str = "identity",
    seed: int = 1,
) -> Split:
    """Random data of a given shape (as ``benchmarks/sampler_throughput.py``), prior as the
    paper config: standard-normal inputs; targets standard normal (regression; uniform on
    [0, 1] with a sigmoid output) or uniform class labels."""
    rng = np.random.default_rng(seed)
    spec = MLPSpec(sizes, output_activation=output_activation)
    n = n_train + n_test
    X = rng.normal(size=(n, sizes[0]))
    if task == "regression":
        y = rng.uniform(size=n) if output_activation == "sigmoid" else rng.normal(size=n)
    else:
        y = rng.integers(0, sizes[-1], n)
    return Split(
        name=name,
        task=task,
        spec=spec,
        X_train=X[:n_train],
        y_train=y[:n_train],
        X_test=X[n_train:],
        y_test=y[n_train:],
        prior={"sigma2": 25.0, "nu1": 2.0, "nu2": 0.1},
    )


PAPER_SAMPLES = 50_000  # config/paper.yaml method_a.sampler.samples


def workflow_posterior(
    split: Any, chains: int, iterations: int = PAPER_SAMPLES, **kwargs: Any
) -> MLPPosterior:
    """``MLPPosterior`` of ``split`` (a :class:`Split` or anything with its fields) as
    ``bayesprune.sampling.sample_network`` builds it: the split's prior, and torch's sigmoid
    where a run of ``chains`` x ``iterations`` repays its import (unless ``torch_sigmoid`` is
    given); other ``kwargs`` (``dtype``, ...) go to the constructor."""
    from bayesprune import likelihoods

    if "torch_sigmoid" not in kwargs:
        pays = getattr(likelihoods, "torch_sigmoid_pays", None)
        n = len(split.y_train)
        kwargs["torch_sigmoid"] = bool(pays and pays(split.spec, n, chains, iterations))
    if kwargs["torch_sigmoid"]:
        import torch

        torch.set_num_threads(1)  # as the workflow: its pool is slower at these sizes
    return likelihoods.build_posterior(
        split.spec,
        split.X_train,
        split.y_train,
        split.task,
        prior=likelihoods.PriorSettings.from_params(split.prior),
        **kwargs,
    )
