"""The resampled stage of method A: where a batched resample of the pruned runs starts, and
each run assessed on its own sub-chains (the sampling itself: :mod:`bayesprune.sampling`)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .networks import MLPSpec
from .posterior import subset_chains
from .pruning import mask_from_dict, masked_mean
from .runs import Run, run_draws
from .stages import StageAssessment, assess_stage, combine_runs


def resample_starts(
    idata: Any,
    spec: MLPSpec,
    masks: dict[str, Any],
    *,
    chains_per_run: int,
    start: str,
    jitter: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[dict[str, Any]]]:
    """Starting points of a batched resample: ``chains_per_run`` sub-chains per run.

    Sub-chain 0 of a run starts at the run's masked posterior mean (the paper). The others,
    with ``start: draw``, at distinct masked draws of the run's own full posterior picked at
    random: dispersed over that posterior, so a sub-chain that cannot leave its start shows
    in the run's R-hat; with ``start: mean``, at the mean plus N(0, ``jitter``^2) per kept
    parameter. Returns ``(theta (R*c, P), chain_mask (R*c, P) bool, tau2 (R*c,) or None,
    runs)`` where ``runs`` lists each run with its ``sub_chains``.
    """
    if start not in ("draw", "mean"):
        raise ValueError(f"resample start must be draw or mean, got {start!r}")
    theta = np.asarray(idata.posterior["theta"].transpose("chain", "draw", ...).values)
    has_tau = "tau2" in idata.posterior
    tau_all = idata.posterior["tau2"].transpose("chain", "draw").values if has_tau else None
    starts, rows, taus, runs = [], [], [], []
    for r, entry in enumerate(masks["runs"]):
        run = Run(entry["run"], tuple(entry["chains"]))
        pruned = mask_from_dict(entry, spec)
        draws = run_draws(spec, theta, run).reshape(-1, spec.n_params)
        tau = None if tau_all is None else tau_all[list(run.chains)].reshape(-1)
        keep = np.ones(spec.n_params, dtype=bool)
        keep[pruned] = False
        gen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r, 7)))
        picks = gen.choice(len(draws), size=min(chains_per_run, len(draws)), replace=False)
        mean = masked_mean(draws, pruned)
        t_mean = None if tau is None else tau.mean()
        first = len(starts)
        for j in range(chains_per_run):
            if j == 0:
                point, t2 = mean, t_mean
            elif start == "draw":
                k = int(picks[j % len(picks)])
                point, t2 = draws[k], None if tau is None else tau[k]
            else:
                point, t2 = mean + jitter * gen.standard_normal(spec.n_params), t_mean
            starts.append(np.where(keep, point, 0.0))
            rows.append(~keep)
            if t2 is not None:
                taus.append(float(t2))
        runs.append(run.to_dict() | {"sub_chains": list(range(first, len(starts)))})
    tau2 = np.asarray(taus) if has_tau else None
    return np.stack(starts), np.stack(rows), tau2, runs


def assess_resampled(
    idata: Any,
    spec: MLPSpec,
    split: dict[str, np.ndarray],
    meta: dict[str, Any],
    masks: dict[str, Any],
    runs: list[dict[str, Any]],
    *,
    seed: int = 0,
    n_function_points: int = 20,
    eval_split: dict[str, np.ndarray] | None = None,
) -> StageAssessment:
    """Every run of a batched resample, assessed on its own sub-chains (R-hat across them),
    on ``eval_split`` (default ``split``).

    The resampled draws stay in the run's aligned labelling: the mask pins it (relabelling
    would move pruned zeros), so they are not aligned again.
    """
    items = []
    for entry, run_info in zip(masks["runs"], runs, strict=True):
        run = Run(entry["run"], tuple(entry["chains"]))
        pruned = mask_from_dict(entry, spec)
        own = subset_chains(idata, run_info["sub_chains"])
        own.posterior.attrs["mask"] = json.dumps(pruned.tolist())
        stage = assess_stage(
            own,
            spec,
            split if eval_split is None else eval_split,
            meta,
            pruned=pruned,
            seed=seed,
            n_function_points=n_function_points,
        )
        items.append((run, stage))
    return combine_runs(masks["unit"], items)
