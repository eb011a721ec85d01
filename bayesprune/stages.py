"""Assess one stage of method A (full, pruned or resampled posterior) and write its files.

Every stage gets the same treatment: metrics at the (masked) posterior mean and of the
posterior predictive, the arrays the figures need, and convergence diagnostics in parameter
and function space. Sampling, pruning and resampling jobs all end here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .diagnostics import diagnose, per_parameter_table
from .evaluation import evaluate_posterior, predictive_summary
from .io import save_npz, write_csv, write_json
from .networks import MLPSpec
from .posterior import pooled_draws, save_posterior


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
    metrics = evaluate_posterior(spec, task, theta, tau2, split, meta, pruned=pruned, seed=seed)
    predictive = predictive_summary(spec, task, theta, tau2, split, meta, pruned=pruned)
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
