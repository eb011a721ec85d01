"""Train/test split and scaling of one replicate; the processed ``rep{r}.npz`` +
``rep{r}.json`` pair (described in ``docs/ARCHITECTURE.md``) written and read."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from bayesprune.data.entry import resolve_entry
from bayesprune.data.errors import DataError, DataFormatError
from bayesprune.data.raw import RawDataset, finite_cast
from bayesprune.io import load_npz, read_json, save_npz, write_json

Arrays = dict[str, np.ndarray]


def prepare_split(
    name: str, entry: dict[str, Any], raw: RawDataset, replicate: int
) -> tuple[Arrays, dict[str, Any]]:
    """Split and scale one replicate; return ``(arrays, metadata)`` as in ARCHITECTURE.md.

    The split seed is ``split.seed`` (plus ``replicate`` when ``split.reshuffle``). A given
    test set (IDX/CIFAR train + test files) is used as is; otherwise ``test_fraction`` of the
    rows go to the test set, stratified by class when ``split.stratify`` (classification).
    Scalers are fitted on the training rows only, or on every row with
    ``preprocessing.fit_on: all`` (the authors' leak, for the bug-compatible config).
    """
    entry = resolve_entry(name, entry)
    split = entry["split"]
    prep = entry["preprocessing"]
    replicate = int(replicate)
    # Which replicates exist is the workflow's business (split.replicates); any index >= 0
    # has a well-defined split, so adding replicates never changes existing ones.
    if replicate < 0:
        raise DataError(f"dataset {name!r}: replicate must be >= 0, got {replicate}")
    seed = int(split["seed"]) + (replicate if split["reshuffle"] else 0)
    X_tr, y_tr, X_te, y_te = _train_test(name, split, raw, seed)
    where = f"dataset {name!r}, replicate {replicate}"
    # fit_on: all is the authors' leak (bug-compatible): the scalers see the test rows too
    leak = prep.get("fit_on", "train") == "all"
    fscaler, X_tr_s, X_te_s = _scale_features(where, prep["features"], X_tr, X_te, leak)
    if raw.task == "regression":
        tscaler, y_tr_s, y_te_s = _scale_targets(where, prep["target"], y_tr, y_te, leak)
        n_outputs = 1
    else:
        tscaler = {"kind": "none", "center": [0.0], "scale": [1.0]}
        y_tr_s = np.asarray(y_tr, dtype=np.int64)
        y_te_s = np.asarray(y_te, dtype=np.int64)
        n_outputs = raw.n_classes
    arrays = {"X_train": X_tr_s, "y_train": y_tr_s, "X_test": X_te_s, "y_test": y_te_s}
    meta = {
        "dataset": name,
        "task": raw.task,
        "n_features": list(X_tr_s.shape[1:]) if X_tr_s.ndim > 2 else int(X_tr_s.shape[1]),
        "n_outputs": int(n_outputs),
        "feature_names": list(raw.feature_names),
        "class_names": list(raw.class_names),
        "n_train": int(len(y_tr_s)),
        "n_test": int(len(y_te_s)),
        "feature_scaler": fscaler,
        "target_scaler": tscaler,
        "source_sha256": dict(raw.source_sha256),
        "split_seed": seed,
    }
    return arrays, meta


def _train_test(
    name: str, split: dict[str, Any], raw: RawDataset, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, y_train, X_test, y_test``: the given test set (training rows reshuffled
    with ``split.reshuffle``), or a seeded (stratified) split of every row."""
    from sklearn.model_selection import train_test_split

    if raw.X_test is not None and raw.y_test is not None:
        X_tr, y_tr, X_te, y_te = raw.X, raw.y, raw.X_test, raw.y_test
        if split["reshuffle"]:  # same sets, reshuffled order per replicate
            rng = np.random.default_rng(seed)
            perm = rng.permutation(len(y_tr))
            X_tr, y_tr = X_tr[perm], y_tr[perm]
        return X_tr, y_tr, X_te, y_te
    stratify = raw.y if (raw.task == "classification" and split["stratify"]) else None
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(
            raw.X,
            raw.y,
            test_size=float(split["test_fraction"]),
            random_state=seed,
            shuffle=True,
            stratify=stratify,
        )
    except ValueError as exc:
        raise DataError(
            f"dataset {name!r}: cannot split {len(raw.y)} rows with test_fraction "
            f"{split['test_fraction']}{' stratified' if stratify is not None else ''}: {exc}. "
            f"Set split.stratify: false or merge rare classes"
        ) from exc
    return X_tr, y_tr, X_te, y_te


def _scale_features(
    where: str, kind: str, X_tr: np.ndarray, X_te: np.ndarray, leak: bool
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The feature scaler (per column, or per channel of images) and the scaled float32 sets."""
    images = X_tr.ndim > 2
    axes = (0, 2, 3) if images else (0,)
    X_fit = np.concatenate([X_tr, X_te]) if leak else X_tr
    fscaler = _scaler(kind, X_fit, axes)
    _check_scaler(where, fscaler, "preprocessing.features")
    channel_axis = 1 if images else None
    X_tr_s = finite_cast(where, _apply(X_tr, fscaler, channel_axis), np.float32, "X_train")
    X_te_s = finite_cast(where, _apply(X_te, fscaler, channel_axis), np.float32, "X_test")
    return fscaler, X_tr_s, X_te_s


def _scale_targets(
    where: str, kind: str, y_tr: np.ndarray, y_te: np.ndarray, leak: bool
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The regression target's scaler and the scaled float32 targets."""
    y_fit = np.concatenate([y_tr, y_te]) if leak else y_tr
    tscaler = _scaler(kind, np.asarray(y_fit, dtype=np.float64), (0,))
    _check_scaler(where, tscaler, "preprocessing.target")
    y_tr_s = finite_cast(where, _apply(np.asarray(y_tr), tscaler, None), np.float32, "y_train")
    y_te_s = finite_cast(where, _apply(np.asarray(y_te), tscaler, None), np.float32, "y_test")
    return tscaler, y_tr_s, y_te_s


def _scaler(kind: str, values: np.ndarray, axes: tuple[int, ...]) -> dict[str, Any]:
    """Fit a scaler over ``axes`` of the training values: original = scaled * scale + center."""
    if kind == "none":
        shape = [values.shape[i] for i in range(values.ndim) if i not in axes]
        k = int(np.prod(shape)) if shape else 1
        return {"kind": "none", "center": [0.0] * k, "scale": [1.0] * k}
    v = values.astype(np.float64)
    if kind == "standard":
        center = v.mean(axis=axes)
        scale = v.std(axis=axes)
    elif kind == "minmax":
        center = v.min(axis=axes)
        scale = v.max(axis=axes) - center
    else:
        raise DataError(f"unknown scaler kind {kind!r} (use standard, minmax or none)")
    scale = np.where(scale > 0, scale, 1.0)  # constant columns: shift only
    return {
        "kind": kind,
        "center": np.atleast_1d(center).ravel().tolist(),
        "scale": np.atleast_1d(scale).ravel().tolist(),
    }


def _check_scaler(where: str, scaler: dict[str, Any], key: str) -> None:
    """A fitted scaler must be finite (a huge spread overflows the variance)."""
    values = np.asarray([*scaler["center"], *scaler["scale"]], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise DataFormatError(
            f"{where}: the {scaler['kind']} scaler ({key}) fitted on the training rows is not "
            f"finite: the values are too large for it; rescale the file's columns or set "
            f"{key}: minmax"
        )


def _apply(values: np.ndarray, scaler: dict[str, Any], channel_axis: int | None) -> np.ndarray:
    center = np.asarray(scaler["center"], dtype=np.float64)
    scale = np.asarray(scaler["scale"], dtype=np.float64)
    if channel_axis is not None and values.ndim > 2:
        shape = [1] * values.ndim
        shape[channel_axis] = -1
        center, scale = center.reshape(shape), scale.reshape(shape)
    elif values.ndim == 1:
        center, scale = center[0], scale[0]
    return (values.astype(np.float64) - center) / scale


def save_split(
    npz_path: str | os.PathLike[str],
    json_path: str | os.PathLike[str],
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
) -> None:
    """Write the processed split pair atomically (npz first, then its json)."""
    needed = ("X_train", "y_train", "X_test", "y_test")
    missing = [k for k in needed if k not in arrays]
    if missing:
        raise DataError(f"save_split: arrays lack {', '.join(missing)}")
    save_npz(npz_path, **{k: arrays[k] for k in needed})
    write_json(json_path, meta)


def load_split(
    npz_path: str | os.PathLike[str], json_path: str | os.PathLike[str]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a processed split pair written by :func:`save_split`."""
    return load_npz(npz_path), read_json(json_path)
