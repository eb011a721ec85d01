"""Assess one stage of method A (full, pruned or resampled posterior) and write its files.

Every stage gets the same treatment: metrics at the (masked) posterior mean and of the
posterior predictive, the arrays the figures need, and convergence diagnostics in parameter
and function space. Sampling, pruning and resampling jobs all end here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesprune.arviz_setup import az

from .alignment import align
from .config import derive_seed
from .diagnostics import (
    diagnose,
    ess_by_chain,
    mask_parameter_table,
    per_parameter_table,
    prediction_quantity,
    summarise_parameters,
)
from .evaluation import assess_posterior, point_metrics
from .io import save_npz, write_csv, write_json
from .likelihoods import PriorSettings
from .networks import MLPSpec
from .posterior import PER_CHAIN_ATTRS, pooled_draws, save_posterior, subset_chains
from .pruning import criterion_scores, make_mask, mask_to_dict
from .runs import Run, distinguishable_modes, replicate_warning, run_draws, runs_of


@dataclass
class StageAssessment:
    metrics: dict[str, Any]
    predictive: dict[str, np.ndarray]
    diagnostics: dict[str, Any]
    param_table: pd.DataFrame


def function_points(n_test: int, m: int) -> np.ndarray:
    """Indices of ``m`` test points spread evenly over the test set (function-space diagnostics)."""
    m = max(1, min(int(m), n_test))
    return np.linspace(0, n_test - 1, m).round().astype(int)


def masked_posterior(
    idata: Any,
    spec: MLPSpec,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    prior: PriorSettings,
    pruned: np.ndarray,
    chunk: int = 4,
) -> Any:
    """The pruned posterior as its own InferenceData: the full draws with ``pruned`` set to 0.

    Its ``lp`` and ``loglik`` are those of the masked draws under the masked model (not the
    full chains' values), so function-space diagnostics describe the pruned network. The
    MH bookkeeping (accepted, kernel, diverging) does not apply to masked draws and is dropped.
    Draws are scored ``chunk`` at a time: the likelihood's batched path is fastest at the
    small batch sizes it is built for (measured: 0.19 s for 2,000 draws at 4, 2.8 s at 16).
    """
    import xarray as xr

    from .likelihoods import build_posterior

    post = build_posterior(spec, X, y, task, prior=prior, mask=pruned)
    theta = np.array(idata.posterior["theta"].transpose("chain", "draw", ...).values)
    theta[..., np.asarray(pruned, dtype=np.int64)] = 0.0
    n_chains, n_draws, n_params = theta.shape
    positions = theta.reshape(-1, n_params)
    if post.has_eta:
        tau2 = idata.posterior["tau2"].transpose("chain", "draw").values.reshape(-1, 1)
        positions = np.hstack([positions, np.log(tau2)])
    lp = np.empty(positions.shape[0])
    loglik = np.empty(positions.shape[0])
    for start in range(0, positions.shape[0], chunk):
        value = post(positions[start : start + chunk])
        lp[start : start + chunk] = value.logdensity
        loglik[start : start + chunk] = value.loglik
    posterior = idata.posterior.copy()
    posterior["theta"] = (posterior["theta"].dims, theta)
    stats = xr.Dataset(
        {
            "lp": (("chain", "draw"), lp.reshape(n_chains, n_draws)),
            "loglik": (("chain", "draw"), loglik.reshape(n_chains, n_draws)),
        },
        coords={"chain": posterior["chain"], "draw": posterior["draw"]},
        attrs=dict(idata.sample_stats.attrs),
    )
    masked = az.InferenceData(posterior=posterior, sample_stats=stats)
    masked.posterior.attrs["mask"] = json.dumps(sorted(int(i) for i in pruned))
    masked.posterior.attrs["stage"] = "pruned"
    return masked


def assess_stage(
    idata: Any,
    spec: MLPSpec,
    split: dict[str, np.ndarray],
    meta: dict[str, Any],
    *,
    pruned: np.ndarray | None = None,
    seed: int = 0,
    n_function_points: int = 20,
    param_table: pd.DataFrame | None = None,
) -> StageAssessment:
    """Metrics, predictive arrays and diagnostics of a posterior, optionally masked by ``pruned``.

    ``param_table`` (per-parameter statistics, e.g. from
    :func:`bayesprune.diagnostics.mask_parameter_table`) skips recomputing them.
    """
    task = meta["task"]
    theta = pooled_draws(idata, "theta")
    tau2 = pooled_draws(idata, "tau2") if "tau2" in idata.posterior else None
    metrics, predictive = assess_posterior(
        spec, task, theta, tau2, split, meta, pruned=pruned, seed=seed
    )
    points = function_points(len(split["y_test"]), n_function_points)
    table = per_parameter_table(idata, pruned=pruned) if param_table is None else param_table
    diagnostics = diagnose(
        idata,
        spec,
        split["X_test"][points],
        task,
        y_points=split["y_test"][points],
        pruned=pruned,
        param_table=table,
    )
    if pruned is not None and "accepted" not in idata.sample_stats:
        # masked draws of the full chains: no Metropolis-Hastings run of their own
        diagnostics["acceptance"] = None
        diagnostics.setdefault("notes", []).append(
            "pruned stage: the full posterior's draws with pruned parameters set to 0; "
            "lp and loglik are recomputed for the masked network; acceptance does not apply"
        )
    return StageAssessment(metrics, predictive, diagnostics, table)


def write_stage(
    assessment: StageAssessment,
    *,
    metrics: str | os.PathLike[str],
    predictive: str | os.PathLike[str],
    diagnostics: str | os.PathLike[str],
    param_table: str | os.PathLike[str],
) -> None:
    """Write a stage's four files, each atomically."""
    save_npz(predictive, **assessment.predictive)
    write_csv(param_table, assessment.param_table)
    write_json(diagnostics, assessment.diagnostics)
    write_json(metrics, assessment.metrics)


def write_sampled_stage(
    assessment: StageAssessment,
    idata: Any,
    *,
    posterior: str | os.PathLike[str],
    checkpoint: str | os.PathLike[str] | None,
    metrics: str | os.PathLike[str],
    predictive: str | os.PathLike[str],
    diagnostics: str | os.PathLike[str],
    param_table: str | os.PathLike[str],
) -> None:
    """Write a sampled stage (its assessment and ``posterior.nc``), then drop its checkpoint.

    The checkpoint goes only once every file is safely in place, so a job killed while
    writing still resumes from it.
    """
    write_stage(
        assessment,
        metrics=metrics,
        predictive=predictive,
        diagnostics=diagnostics,
        param_table=param_table,
    )
    save_posterior(posterior, idata)
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)


# ---------------------------------------------------------------------------- runs
def combine_runs(
    unit: str, items: list[tuple[Run, StageAssessment]], extra: dict[str, Any] | None = None
) -> StageAssessment:
    """One stage's files from its runs' assessments.

    ``metrics.json`` and ``diagnostics.json``: ``{"unit", "runs": [{run, chain, chains, ...}]}``
    (plus ``extra``'s keys in both, e.g. the replicate-level ``replicate`` entry). Predictive
    arrays gain a leading run axis (``y_true`` stays as is) and ``runs`` (the labels).
    ``params.csv``: the runs' tables stacked, with a ``run`` column.
    """
    extra = extra or {}
    metrics: dict[str, Any] = {"unit": unit, "runs": []}
    diagnostics: dict[str, Any] = {"unit": unit, "runs": []}
    for key in ("metrics", "diagnostics"):
        if key in extra:
            (metrics if key == "metrics" else diagnostics).update(extra[key])
    arrays: dict[str, list[np.ndarray]] = {}
    tables = []
    for run, stage in items:
        metrics["runs"].append(run.to_dict() | stage.metrics)
        diagnostics["runs"].append(run.to_dict() | stage.diagnostics)
        for name, value in stage.predictive.items():
            arrays.setdefault(name, []).append(np.asarray(value))
        tables.append(stage.param_table.assign(run=run.label))
    predictive = {
        name: values[0] if name == "y_true" else np.stack(values) for name, values in arrays.items()
    }
    predictive["runs"] = np.array([run.label for run, _ in items])
    table = pd.concat(tables + extra.get("tables", []), ignore_index=True)
    table = table[["run"] + [c for c in table.columns if c != "run"]]
    return StageAssessment(metrics, predictive, diagnostics, table)


def _function_predictions(
    idata: Any, spec: MLPSpec, task: str, split: dict[str, np.ndarray], points: np.ndarray
) -> np.ndarray:
    """Label-free predictions ``(chains, draws, M)`` at the function-space points."""
    theta = np.asarray(idata.posterior["theta"].transpose("chain", "draw", ...).values)
    pred, _ = prediction_quantity(
        spec, task, theta, split["X_test"][points], split["y_test"][points]
    )
    return pred


def assess_full(
    idata: Any,
    spec: MLPSpec,
    split: dict[str, np.ndarray],
    meta: dict[str, Any],
    *,
    seed: int = 0,
    n_function_points: int = 20,
) -> StageAssessment:
    """The full posterior, per chain and for the whole replicate (whatever ``pruning.unit``:
    the tables pick the runs it names, so changing it does not resample).

    ``runs``: every chain on its own (its aligned draws' mean network as the point estimate,
    its draws' predictive). ``replicate``: all chains aligned to one reference (``point``: the
    aligned pooled mean, ``point_unaligned``: the raw pooled mean, ``predictive``: the
    label-free pooled predictive); parameter R-hat/ESS before and after alignment, pooled
    function-space diagnostics, and how many chains sit in distinguishable modes.
    ``params.csv``: every chain's rows and run ``all`` (aligned pooled, with ``rhat_raw``).
    """
    theta = np.asarray(idata.posterior["theta"].transpose("chain", "draw", ...).values)
    n_chains = theta.shape[0]
    aligned = align(spec, theta)
    pooled = subset_chains(idata, list(range(n_chains)), aligned.theta)
    raw_table = per_parameter_table(idata)
    replicate = assess_stage(
        pooled, spec, split, meta, seed=seed, n_function_points=n_function_points
    )
    replicate.param_table["rhat_raw"] = raw_table["rhat"].to_numpy()
    replicate.metrics["point_unaligned"] = point_metrics(
        spec, meta["task"], theta.reshape(-1, theta.shape[-1]).mean(axis=0), split, meta
    )
    points = function_points(len(split["y_test"]), n_function_points)
    pred = _function_predictions(idata, spec, meta["task"], split, points)
    rep_diag = dict(replicate.diagnostics)
    rep_diag["parameter_raw"] = summarise_parameters(raw_table)
    rep_diag["alignment"] = {
        "iterations": aligned.iterations,
        "converged": aligned.converged,
        "draws_relabelled": aligned.n_changed,
    }
    rep_diag["modes"] = distinguishable_modes(pred, ess_by_chain(pred))
    items = []
    for run in runs_of("chain", n_chains):
        run_idata = subset_chains(idata, run.chains, run_draws(spec, theta, run))
        stage = assess_stage(
            run_idata, spec, split, meta, seed=seed, n_function_points=n_function_points
        )
        items.append((run, stage))
    extra = {
        "metrics": {"replicate": replicate.metrics},
        "diagnostics": {"replicate": rep_diag},
        "tables": [replicate.param_table.assign(run="all")],
    }
    return combine_runs("chain", items, extra)


def prune_runs(
    idata: Any,
    spec: MLPSpec,
    split: dict[str, np.ndarray],
    meta: dict[str, Any],
    full_params: pd.DataFrame,
    *,
    unit: str,
    criterion: str,
    rate: float,
    scope: str,
    include_biases: bool,
    prior: PriorSettings,
    seed: int,
    n_function_points: int = 20,
    rnd: str = "uniform",
    eval_split: dict[str, np.ndarray] | None = None,
) -> tuple[StageAssessment, dict[str, Any], Any]:
    """Score, mask and assess every run of a full posterior; returns the stage, the masks and
    the runs' masked draws as one InferenceData (:func:`join_runs`).

    Each run is scored on its own aligned draws (:func:`bayesprune.runs.run_draws`); ``rnd``
    draws its scores from a seed of its own per run (``seed`` and the run's label), the same
    for every rate, so random masks nest across rates; ``rnd="first_k"`` is the authors'
    (:func:`bayesprune.pruning.criterion_scores`). ``eval_split`` (default ``split``) holds
    the rows the masked networks are evaluated on (:func:`bayesprune.evaluation.evaluation_split`).
    """
    assess_split = split if eval_split is None else eval_split
    theta = np.asarray(idata.posterior["theta"].transpose("chain", "draw", ...).values)
    items, masks, maskeds = [], [], []
    warning = None
    if unit == "replicate":
        pooled = full_params[(full_params["run"] == "all") & (full_params["index"] >= 0)]
        warning = replicate_warning(float(pooled["rhat"].median()))
    choice = dict(criterion=criterion, rate=rate, scope=scope, include_biases=include_biases)
    for run in runs_of(unit, theta.shape[0]):
        label = "all" if unit == "replicate" else run.label
        own = full_params[full_params["run"] == label].drop(columns="run")
        stage, masked, record = _prune_run(
            idata,
            theta,
            run,
            spec,
            split,
            assess_split,
            meta,
            own,
            choice,
            prior,
            seed,
            n_function_points=n_function_points,
            rnd=rnd,
        )
        items.append((run, stage))
        maskeds.append(masked)
        masks.append(record)
    stage = combine_runs(unit, items)
    if warning:
        stage.diagnostics["warnings"] = [warning]
    return stage, {"unit": unit, "runs": masks}, join_runs(maskeds, masks)


def _prune_run(
    idata: Any,
    theta: np.ndarray,
    run: Any,
    spec: MLPSpec,
    split: dict[str, np.ndarray],
    assess_split: dict[str, np.ndarray],
    meta: dict[str, Any],
    own: pd.DataFrame,
    choice: dict[str, Any],
    prior: PriorSettings,
    seed: int,
    *,
    n_function_points: int,
    rnd: str,
) -> tuple[StageAssessment, Any, dict[str, Any]]:
    """One run of :func:`prune_runs`: scores on its aligned draws, its mask, its masked
    posterior assessed; returns the stage, the masked draws and the run's mask record.
    ``own`` is the run's rows of the full posterior's parameter table; ``choice`` holds the
    criterion, rate, scope and include_biases."""
    draws = run_draws(spec, theta, run)
    run_seed = derive_seed(seed, run.label)
    score = criterion_scores(draws, choice["criterion"], spec, seed=run_seed, rnd=rnd)
    pruned = make_mask(
        score,
        choice["rate"],
        spec,
        scope=choice["scope"],
        include_biases=choice["include_biases"],
    )
    run_idata = subset_chains(idata, run.chains, draws)
    masked = masked_posterior(
        run_idata, spec, meta["task"], split["X_train"], split["y_train"], prior, pruned
    )
    stage = assess_stage(
        masked,
        spec,
        assess_split,
        meta,
        pruned=pruned,
        seed=seed,
        n_function_points=n_function_points,
        # kept parameters keep the run's draws: reuse its per-parameter statistics
        param_table=mask_parameter_table(own.reset_index(drop=True), pruned),
    )
    record = run.to_dict() | mask_to_dict(pruned, spec, **choice, seed=run_seed)
    return stage, masked, record


def join_runs(idatas: list[Any], masks: list[dict[str, Any]]) -> Any:
    """One InferenceData of every run's masked draws (chains in run order), with attributes
    ``runs`` (each run's ``sub_chains`` in this file) and ``chain_masks`` (each chain's
    pruned indices): the pruned stage's ``posterior.nc``."""
    import xarray as xr

    groups, runs, chain_masks, first = {}, [], [], 0
    for idata, mask in zip(idatas, masks, strict=True):
        n = idata.posterior.sizes["chain"]
        runs.append(
            {k: mask[k] for k in ("run", "chain", "chains")}
            | {"sub_chains": list(range(first, first + n))}
        )
        chain_masks += [mask["pruned"]] * n
        first += n
    for name in ("posterior", "sample_stats"):
        parts = [getattr(i, name) for i in idatas]
        joined = xr.concat(parts, dim="chain").assign_coords(chain=np.arange(first))
        joined.attrs = dict(parts[0].attrs)
        for key in PER_CHAIN_ATTRS:  # one entry per chain: joined in chain order
            if all(key in p.attrs for p in parts):
                joined.attrs[key] = json.dumps(sum((json.loads(p.attrs[key]) for p in parts), []))
        groups[name] = joined
    out = az.InferenceData(**groups)
    out.posterior.attrs.update(
        mask="[]", runs=json.dumps(runs), chain_masks=json.dumps(chain_masks), stage="pruned"
    )
    return out
