"""A sampler config block (``method_a.sampler`` or ``method_a.resample``) as one typed record,
built once from the validated config (:meth:`SamplerSettings.from_params`) by the scripts and
passed to the package (:func:`bayesprune.sampling.sample_network`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class SamplerSettings:
    """How one posterior is sampled (the schema's ``$defs/sampler`` describes each field)."""

    samples: int  # iterations per chain, burn-in included
    burn_in: float | int
    thin: int
    step_size: float
    noise_step: float
    langevin_prob: float
    init: Literal["map", "prior"]
    init_jitter: float
    checkpoint_every: int  # 0: never
    langevin_step: float | None = None
    chains: int | None = None  # None: one chain per given start (resampling)
    dtype: str = "float64"
    drift: Literal["gradient", "sgd_epoch"] = "gradient"
    sgd_lr: float = 0.01
    q_ratio: Literal["exact", "authors"] = "authors"
    mask: Literal["index", "by_value"] = "index"
    adapt: bool = False
    target_accept: float = 0.5
    metric: Literal["identity", "diagonal"] = "identity"

    @staticmethod
    def from_params(block: dict[str, Any]) -> SamplerSettings:
        """From a validated sampler config block (keys it does not use are ignored, e.g. the
        resample block's ``chains_per_run``)."""
        b = dict(block)
        return SamplerSettings(
            samples=int(b["samples"]),
            burn_in=b["burn_in"],
            thin=int(b["thin"]),
            step_size=b["step_size"],
            noise_step=b["noise_step"],
            langevin_prob=b["langevin_prob"],
            init=b["init"],
            init_jitter=b["init_jitter"],
            checkpoint_every=int(b["checkpoint_every"]),
            langevin_step=b.get("langevin_step"),
            chains=b.get("chains"),
            dtype=b.get("dtype", "float64"),
            drift=b.get("drift", "gradient"),
            sgd_lr=b.get("sgd_lr", 0.01),
            q_ratio=b.get("q_ratio", "authors"),
            mask=b.get("mask", "index"),
            adapt=bool(b.get("adapt", False)),
            target_accept=b.get("target_accept", 0.5),
            metric=b.get("metric", "identity"),
        )
