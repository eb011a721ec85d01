"""The ``sklearn`` reader: the data sets bundled with scikit-learn (no files to fetch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.errors import DataError
from bayesprune.data.raw import RawDataset

SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
SKLEARN_TASKS = {n: "regression" if n == "diabetes" else "classification" for n in SKLEARN_DATASETS}


def check_sklearn_task(name: str, entry: dict[str, Any]) -> None:
    """A scikit-learn set has one task; the config's ``task`` must be it (checked before any
    job by the config loader, and again by the reader)."""
    source = entry.get("source") or {}
    if source.get("kind") != "sklearn" or source.get("name") not in SKLEARN_TASKS:
        return
    expected = SKLEARN_TASKS[source["name"]]
    if entry.get("task") != expected:
        raise DataError(
            f"dataset {name!r}: scikit-learn's {source['name']} is a {expected} dataset, but "
            f"task is {entry.get('task')!r}; set datasets.{name}.task: {expected}"
        )


def read_sklearn(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    """``reader.kind`` sklearn: a set bundled with scikit-learn (``files`` is empty)."""
    import sklearn.datasets as skd

    sk_name = entry["source"]["name"]
    bunch = getattr(skd, f"load_{sk_name}")()
    X = np.asarray(bunch.data, dtype=np.float64)
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [])] or [
        f"x{i}" for i in range(X.shape[1])
    ]
    if sk_name == "digits":
        X = X / 16.0
        if entry["reader"]["images"]:
            X = X.reshape(-1, 1, 8, 8)
            feature_names = ["intensity"]
    task = entry["task"]
    check_sklearn_task(name, entry)
    if task == "regression":
        return RawDataset(
            name, task, X.astype(np.float32), bunch.target.astype(np.float64), feature_names, []
        )
    class_names = [str(c) for c in bunch.target_names]
    return RawDataset(
        name,
        task,
        X.astype(np.float32),
        bunch.target.astype(np.int64),
        feature_names,
        class_names,
    )
