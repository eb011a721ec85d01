"""The ablation's switches: which config keys each departure is (:data:`SWITCHES`), what it
means (:data:`DESCRIPTIONS`), and the two config edits a cell is made of: one switch taken from
the other config (:func:`switched`) and the shortened run (:func:`shortened`). The cells and
their runs: :mod:`bayesprune.ablation`."""

from __future__ import annotations

import copy
import math
from typing import Any

#: switch -> the config keys it takes from the other config (``datasets.*``: every dataset)
SWITCHES: dict[str, tuple[str, ...]] = {
    "proposal": (
        "method_a.sampler.drift",
        "method_a.sampler.q_ratio",
        "method_a.sampler.sgd_lr",
        "method_a.resample.drift",
        "method_a.resample.q_ratio",
        "method_a.resample.sgd_lr",
        "method_a.resample.mask",
    ),
    "q_ratio": ("method_a.sampler.q_ratio", "method_a.resample.q_ratio"),
    "step": (
        "method_a.sampler.step_size",
        "method_a.sampler.adapt",
        "method_a.sampler.target_accept",
        "method_a.resample.step_size",
        "method_a.resample.adapt",
        "method_a.resample.target_accept",
        "method_a.resample.burn_in",  # adapting needs a burn-in
    ),
    "chains": ("method_a.sampler.chains",),
    "likelihood": ("method_a.likelihood",),
    "noise_prior": ("method_a.prior",),
    "preprocessing": ("datasets.*.preprocessing", "datasets.*.split"),
    "rnd": ("method_a.pruning.rnd",),
    "evaluation": ("method_a.evaluation",),
    "resampling": (
        "method_a.resample.samples",
        "method_a.resample.thin",
        "method_a.resample.chains_per_run",
        "method_a.resample.sub_chain_start",
    ),
}

#: what each switch is, for the tables
DESCRIPTIONS: dict[str, str] = {
    "base": "the start config itself",
    "proposal": "Langevin proposal: SGD-epoch drift with its ratio and mask handling vs exact MALA",
    "q_ratio": "the SGD proposal's q ratio: step as a variance (theirs) vs step squared",
    "step": "fixed step 0.025 vs adapted during burn-in (with the resampling burn-in it needs)",
    "chains": "chains per replicate (each chain is a run)",
    "likelihood": "classification: softmax over sigmoid outputs vs softmax(logits)",
    "noise_prior": "noise prior: nu1 = nu2 = 0 without Jacobian vs InverseGamma(2, 0.1)",
    "preprocessing": "scalers fitted on all rows, per-run unstratified reshuffle vs train-only, one split",
    "rnd": "RND: first k entries of the authors' layout vs uniform random subset",
    "evaluation": "pruned/resampled nets on a fresh 60/40 reshuffle vs the held-out test rows",
    "resampling": "resampling length and sub-chains (its burn-in goes with `step`)",
}

STAGES = ("full", "pruned", "resampled")
ESTIMATES = ("point", "predictive")


def get_path(cfg: dict[str, Any], path: str) -> Any:
    node: Any = cfg
    for part in path.split("."):
        node = node[part]
    return node


def set_path(cfg: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = cfg
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = copy.deepcopy(value)


def switch_paths(switch: str, datasets: list[str]) -> list[str]:
    out = []
    for path in SWITCHES[switch]:
        if path.startswith("datasets.*."):
            out += [path.replace("*", name, 1) for name in datasets]
        else:
            out.append(path)
    return out


def switched(
    start: dict[str, Any], other: dict[str, Any], switch: str, datasets: list[str]
) -> dict[str, Any]:
    """``start`` with the keys of ``switch`` taken from ``other`` (both validated configs)."""
    if switch not in SWITCHES:
        raise ValueError(f"unknown switch {switch!r}; expected one of {sorted(SWITCHES)}")
    out = copy.deepcopy(start)
    for path in switch_paths(switch, datasets):
        set_path(out, path, get_path(other, path))
    return out


def shortened(cfg: dict[str, Any], ablation: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` as the ablation runs it: ``samples`` iterations per full chain, thinned to
    about ``kept_draws``, resampling scaled by ``resample_fraction``, ``replicates`` per
    dataset, ``rates``, no checkpoints."""
    out = copy.deepcopy(cfg)
    a = out["method_a"]
    s = a["sampler"]
    s["samples"] = int(ablation["samples"])
    post = s["samples"] - math.floor(float(s["burn_in"]) * s["samples"])
    s["thin"] = max(1, post // int(ablation["kept_draws"]))
    r = a["resample"]
    r["samples"] = max(8, round(r["samples"] * float(ablation["resample_fraction"])))
    r["thin"] = 1
    for block in (s, r):
        block["checkpoint_every"] = 0
    a["pruning"]["rates"] = list(ablation["rates"])
    for name in ablation["datasets"]:
        out["datasets"][name]["split"]["replicates"] = int(ablation["replicates"])
    return out
