"""Reading results files for the figures: stage predictive arrays, pruning curves, per-stage
parameter tables and function-space diagnostics, as pandas frames / numpy arrays."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayesprune.io import read_json


def run_arrays(arrays: dict[str, np.ndarray], run: int = 0) -> dict[str, np.ndarray]:
    """One run's predictive arrays from a stage's ``predictive.npz`` (arrays with a leading
    run axis, ``y_true`` shared, ``runs`` the labels)."""
    n_runs = len(arrays["runs"]) if "runs" in arrays else None
    out = {}
    for name, value in arrays.items():
        if name == "runs":
            continue
        out[name] = value[run] if n_runs is not None and name != "y_true" else value
    return out


def load_curves(files: Sequence[str | os.PathLike[str]], reps: Sequence[int]) -> pd.DataFrame:
    """Concatenate per-replicate ``curve.csv`` files, adding a ``rep`` column."""
    frames = [pd.read_csv(f).assign(rep=r) for f, r in zip(files, reps, strict=True)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_stage_params(
    files: Sequence[str | os.PathLike[str]], keys: Sequence[Sequence]
) -> pd.DataFrame:
    """Concatenate per-stage ``params.csv`` files; ``keys`` are ``[stage, criterion, rate, rep]``.

    Every run's rows are kept (one row per parameter and run), except that a full stage's
    file contributes only its run ``all``: every chain aligned to one reference.
    """
    frames = []
    for path, (stage, crit, rate, rep) in zip(files, keys, strict=True):
        frame = pd.read_csv(path)
        if "run" in frame.columns and (frame["run"] == "all").any():
            # the full posterior: all chains aligned to one reference (R-hat across chains)
            frame = frame[frame["run"] == "all"]
        frame = frame[frame["index"] >= 0]  # tau2 has index -1
        frames.append(frame.assign(stage=stage, criterion=crit, rate=float(rate), rep=rep))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_function_diagnostics(
    files: Sequence[str | os.PathLike[str]], keys: Sequence[Sequence]
) -> pd.DataFrame:
    """One row per function-space quantity (``loglik``, ``lp``, ``pred``) and stage from
    ``diagnostics.json`` files; ``pred`` takes the worst test point (largest R-hat, smallest
    bulk ESS)."""

    rows = []
    for path, (stage, crit, rate, rep) in zip(files, keys, strict=True):
        content = read_json(path)
        # the full stage: its pooled, label-free diagnostics over all chains; else every run
        runs = [content["replicate"]] if "replicate" in content else content.get("runs", [content])
        for function in [run.get("function", {}) for run in runs]:
            rows += _function_rows(
                function, {"stage": stage, "criterion": crit, "rate": float(rate), "rep": rep}
            )
    frame = pd.DataFrame(
        rows, columns=["stage", "criterion", "rate", "rep", "quantity", "rhat", "ess_bulk"]
    )
    frame[["rhat", "ess_bulk"]] = frame[["rhat", "ess_bulk"]].astype(float)
    return frame


def _function_rows(function: dict, key: dict) -> list[dict]:
    """Rows of one run's function-space diagnostics (see :func:`load_function_diagnostics`)."""
    rows = []
    for q in ("loglik", "lp"):
        if q in function:
            rows.append(
                {
                    **key,
                    "quantity": q,
                    "rhat": function[q].get("rhat"),
                    "ess_bulk": function[q].get("ess_bulk"),
                }
            )
    if "pred" in function:
        pred = function["pred"]
        rows.append(
            {
                **key,
                "quantity": "pred",
                "rhat": pred.get("rhat_max"),
                "ess_bulk": pred.get("ess_bulk_min"),
            }
        )
    return rows
