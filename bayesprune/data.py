"""Datasets: download (mirror first, sha256, retries, atomic), readers, split + scaling.

A dataset is described by one config entry (``datasets: {name: entry}``, validated by
``config/schemas/dataset.schema.yaml``). The stages are:

1. :func:`fetch_dataset` / :func:`fetch`: put every file of a url source under ``raw_dir``
   (copied from the mirror folder when it holds the file, downloaded otherwise), always
   verified by sha256. Nothing partial or unverified is ever left behind.
2. :func:`read_dataset`: parse the raw files into a :class:`RawDataset` (csv, windowed
   series, IDX, CIFAR-10 python tarball, scikit-learn bundled sets). Members of zip and tar
   archives are read straight from the archive.
3. :func:`prepare_split`: seeded (stratified) train/test split, scalers fitted on the
   training rows only; :func:`save_split` / :func:`load_split` write and read the processed
   ``rep{r}.npz`` + ``rep{r}.json`` pair described in ``docs/ARCHITECTURE.md``.

Every problem with the data raises a :class:`DataError` that names the dataset, the file and
what to do about it.
"""

from __future__ import annotations

import codecs
import copy
import csv
import gzip
import http.client
import io
import math
import os
import pickle
import re
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.io import (
    UserError,
    atomic_path,
    load_npz,
    read_json,
    save_npz,
    sha256_file,
    write_json,
)

__all__ = [
    "ChecksumError",
    "DEFAULTS",
    "DataError",
    "DataFormatError",
    "DownloadError",
    "FILE_ROLES",
    "RawDataset",
    "SKLEARN_DATASETS",
    "SKLEARN_TASKS",
    "check_sklearn_task",
    "fetch",
    "fetch_dataset",
    "inverse_target",
    "load_split",
    "prepare_split",
    "raw_file_paths",
    "read_dataset",
    "resolve_entry",
    "save_split",
]

FILE_ROLES = ("data", "archive", "train_images", "train_labels", "test_images", "test_labels")
SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
SKLEARN_TASKS = {n: "regression" if n == "diabetes" else "classification" for n in SKLEARN_DATASETS}
MISSING_TOKENS = frozenset({"", "?", "na", "nan", "n/a", "null", "none", "-"})
FLOAT32_MAX = float(np.finfo(np.float32).max)
_USER_AGENT = "bayesprune-data/0.1 (+https://github.com/)"


# --------------------------------------------------------------------------------------
# errors


class DataError(UserError):
    """Any problem with a dataset: its config, its files or their contents."""


class DownloadError(DataError):
    """A file could not be downloaded (after retries) or copied from the mirror."""


class ChecksumError(DataError):
    """A file's sha256 differs from the one in the config."""


class DataFormatError(DataError):
    """A file's contents cannot be parsed into the configured dataset."""


# --------------------------------------------------------------------------------------
# entry defaults

_DEFAULT_READER: dict[str, Any] = {
    "images": False,
    "delimiter": ",",
    "header": False,
    "names": None,
    "features": None,
    "categorical": {},
    "label_map": None,
    "class_bins": None,
    "column": 0,
    "window": 5,
    "stride": 2,
}
_DEFAULT_SPLIT: dict[str, Any] = {
    "test_fraction": 0.4,
    "seed": 0,
    "replicates": 1,
    "stratify": True,
    "reshuffle": False,
}
_DEFAULT_NETWORK: dict[str, Any] = {
    "kind": "mlp",
    "hidden": [12],
    "hidden_activation": "sigmoid",
    "output_activation": "identity",
    "channels": [32, 64],
}
DEFAULTS: dict[str, Any] = {
    "reader": _DEFAULT_READER,
    "preprocessing": {"features": "standard", "target": "none", "fit_on": "train"},
    "split": _DEFAULT_SPLIT,
    "network": _DEFAULT_NETWORK,
}


def resolve_entry(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``entry`` with every default filled in and checked.

    Mirrors the defaults of ``config/schemas/dataset.schema.yaml`` (a test keeps the two in
    step), so the package works on entries that did not pass through the config loader.
    Raises :class:`DataError` for entries that cannot work (e.g. a URL without a sha256).
    """
    if not isinstance(entry, dict):
        raise DataError(f"dataset {name!r}: the config entry must be a mapping, got {entry!r}")
    out = copy.deepcopy(entry)
    task = out.get("task")
    if task not in ("regression", "classification"):
        raise DataError(
            f"dataset {name!r}: task must be 'regression' or 'classification', got {task!r}"
        )
    source = out.get("source")
    if not isinstance(source, dict) or source.get("kind") not in ("sklearn", "url", "local"):
        raise DataError(
            f"dataset {name!r}: source.kind must be one of sklearn, url, local (got {source!r})"
        )
    kind = source["kind"]
    if kind == "sklearn":
        if source.get("name") not in SKLEARN_DATASETS:
            raise DataError(
                f"dataset {name!r}: source.name must be one of {', '.join(SKLEARN_DATASETS)} "
                f"for a sklearn source (got {source.get('name')!r})"
            )
        source.setdefault("files", {})
    else:
        files = source.get("files")
        if not isinstance(files, dict) or not files:
            raise DataError(
                f"dataset {name!r}: a {kind} source needs source.files (role -> file), e.g. "
                f"{{data: {{url: ..., sha256: ..., path: ...}}}}"
            )
        for role, spec in files.items():
            if role not in FILE_ROLES:
                raise DataError(
                    f"dataset {name!r}: unknown file role {role!r} (use one of "
                    f"{', '.join(FILE_ROLES)})"
                )
            if not isinstance(spec, dict) or not spec.get("path"):
                raise DataError(f"dataset {name!r}, file {role!r}: 'path' is required")
            if kind == "url":
                _check_raw_path(name, role, str(spec["path"]))
                if not spec.get("url"):
                    raise DataError(f"dataset {name!r}, file {role!r}: 'url' is required")
                if not spec.get("sha256"):
                    raise DataError(
                        f"dataset {name!r}, file {role!r}: a URL without a sha256 is rejected; "
                        f"add the file's sha256 (64 hex digits) to the config"
                    )
            if spec.get("sha256") is not None:
                sha = str(spec["sha256"]).lower()
                if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                    raise DataError(
                        f"dataset {name!r}, file {role!r}: sha256 must be 64 hex digits, "
                        f"got {spec['sha256']!r}"
                    )
                spec["sha256"] = sha
    reader = {**copy.deepcopy(_DEFAULT_READER), **(out.get("reader") or {})}
    reader.setdefault("kind", "sklearn" if kind == "sklearn" else "csv")
    if reader.get("encoding") is not None:
        try:
            codecs.lookup(str(reader["encoding"]))
        except LookupError:
            raise DataError(
                f"dataset {name!r}: reader.encoding {reader['encoding']!r} is not a known text "
                f"encoding; use e.g. utf-8, latin-1 or cp1252"
            ) from None
    names = reader.get("names")
    if names:
        dup = sorted({n for n in names if list(names).count(n) > 1})
        if dup:
            raise DataError(
                f"dataset {name!r}: reader.names repeats {', '.join(map(repr, dup))}; give "
                f"every column its own name"
            )
    out["reader"] = reader
    prep = {"features": "standard", "target": "none", **(out.get("preprocessing") or {})}
    if task == "classification":
        prep["target"] = "none"
    out["preprocessing"] = prep
    out["split"] = {**copy.deepcopy(_DEFAULT_SPLIT), **(out.get("split") or {})}
    out["network"] = {**copy.deepcopy(_DEFAULT_NETWORK), **(out.get("network") or {})}
    tf = out["split"]["test_fraction"]
    if not 0.0 < float(tf) < 1.0:
        raise DataError(f"dataset {name!r}: split.test_fraction must be in (0, 1), got {tf}")
    return out


# Absolute (/x, \\x, C:x) or climbing (a ".." part): the same test as dataset.schema.yaml.
_UNSAFE_RAW_PATH = re.compile(r"(^[/\\])|(^|[/\\])\.\.([/\\]|$)|^[A-Za-z]:")


def _check_raw_path(name: str, role: str, rel: str) -> None:
    """A url source's ``path`` must stay inside ``data/raw`` (and the mirror folder)."""
    if _UNSAFE_RAW_PATH.search(rel):
        raise DataError(
            f"dataset {name!r}, file {role!r}: path {rel!r} must be relative and stay inside "
            f"data/raw (no leading '/', no '..'); set source.files.{role}.path to a plain "
            f"relative name such as {Path(rel.replace(chr(92), '/')).name or 'file.csv'!r}"
        )


# --------------------------------------------------------------------------------------
# download


def _fmt(dataset: str | None, role: str | None) -> str:
    parts = []
    if dataset:
        parts.append(f"dataset {dataset!r}")
    if role:
        parts.append(f"file {role!r}")
    return ", ".join(parts) if parts else "file"


def _copy_verified(src: Path, dest: Path, expected: str, what: str, origin: str) -> None:
    """Copy ``src`` to ``dest`` atomically, hashing on the way; raise if sha256 differs."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with atomic_path(dest) as tmp:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                while block := fin.read(1 << 20):
                    digest.update(block)
                    fout.write(block)
            actual = digest.hexdigest()
            if actual != expected:
                raise ChecksumError(
                    f"{what}: sha256 mismatch for {origin}\n  expected {expected}\n  actual   "
                    f"{actual}\nThe file is corrupt or not the configured one: replace it with "
                    f"the canonical download (see datasets/SOURCES.md) or correct the sha256 "
                    f"in the config. Nothing was written to {dest}."
                )
    except OSError as exc:
        raise DownloadError(f"{what}: cannot copy {src} to {dest}: {exc}") from exc


class _Transient(Exception):
    """A failure worth retrying (connection trouble, 5xx, truncated body)."""


def _download_once(url: str, dest: Path, expected: str, timeout: float, what: str) -> None:
    """One attempt: stream ``url`` into a temp file beside ``dest``, verify, rename."""
    import hashlib

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    # atomic_path: the file appears complete and verified at `dest`, or not at all.
    with atomic_path(dest) as tmp:
        digest = hashlib.sha256()
        size = 0
        try:
            with (
                open(tmp, "wb") as fout,
                urllib.request.urlopen(request, timeout=timeout) as resp,
            ):
                length = resp.headers.get("Content-Length")
                while block := resp.read(1 << 20):
                    digest.update(block)
                    fout.write(block)
                    size += len(block)
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code in (408, 429):
                raise _Transient(f"HTTP {exc.code} {exc.reason}") from exc
            raise DownloadError(
                f"{what}: downloading {url} failed with HTTP {exc.code} {exc.reason}; check the "
                f"URL in the config, or put the file in the mirror folder"
            ) from exc
        except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:
            raise DownloadError(f"{what}: cannot download {url!r}: {exc}") from exc
        if length is not None and length.isdigit() and int(length) != size:
            raise _Transient(f"truncated transfer: got {size} of {length} bytes")
        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"{what}: sha256 mismatch for the download from {url}\n  expected {expected}\n"
                f"  actual   {actual}\nThe server sent a different file than the configured "
                f"one: check the URL and the sha256 in the config, or place the canonical file "
                f"in the mirror folder. Nothing was written to {dest}."
            )


def fetch(
    file_spec: dict[str, Any],
    raw_dir: str | os.PathLike[str],
    mirror: str | os.PathLike[str] | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    *,
    kind: str = "url",
    dataset: str | None = None,
    role: str | None = None,
    backoff: float = 1.0,
) -> Path:
    """Make one file of a dataset available locally, verified, and return its path.

    ``kind="url"``: the file goes to ``raw_dir / file_spec["path"]``. If it is already there
    with the right sha256 nothing happens; else if ``mirror / path`` exists it is copied
    (verified, atomically); else the URL is downloaded (``retries`` extra attempts after the
    first on transient failures, waiting ``backoff * 2**attempt`` seconds), streamed into a
    temporary file beside the destination, verified and renamed into place.
    ``kind="local"``: ``file_spec["path"]`` is used in place, verified when a sha256 is given.
    A wrong checksum raises :class:`ChecksumError`, a failed download :class:`DownloadError`;
    neither leaves any file behind.
    """
    what = _fmt(dataset, role)
    rel = file_spec.get("path")
    if not rel:
        raise DataError(f"{what}: the file spec has no 'path'")
    expected = file_spec.get("sha256")
    expected = str(expected).lower() if expected else None
    if kind == "local":
        path = Path(rel)
        if not path.is_file():
            raise DataError(f"{what}: local file {path} does not exist; fix source.files.path")
        if expected:
            actual = sha256_file(path)
            if actual != expected:
                raise ChecksumError(
                    f"{what}: sha256 mismatch for local file {path}\n  expected {expected}\n"
                    f"  actual   {actual}\nReplace the file or correct the sha256 in the config."
                )
        return path
    if kind != "url":
        raise DataError(f"{what}: nothing to fetch for a {kind!r} source")
    url = file_spec.get("url")
    if not url:
        raise DataError(f"{what}: a url source needs 'url'")
    if not expected:
        raise DataError(
            f"{what}: a URL without a sha256 is rejected; add the file's sha256 to the config"
        )
    if Path(rel).is_absolute() or _UNSAFE_RAW_PATH.search(str(rel)):
        raise DataError(f"{what}: path {rel!r} must be relative and stay inside the raw folder")
    dest = Path(raw_dir) / rel
    if dest.is_file() and sha256_file(dest) == expected:
        return dest
    if mirror is not None:
        candidate = Path(mirror) / rel
        if candidate.is_file():
            _copy_verified(candidate, dest, expected, what, f"mirror file {candidate}")
            return dest
    last: Exception | None = None
    for attempt in range(max(0, int(retries)) + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _download_once(url, dest, expected, timeout, what)
            return dest
        except _Transient as exc:
            last = exc
    hint = f" or place it at {Path(mirror) / rel}" if mirror is not None else ""
    raise DownloadError(
        f"{what}: downloading {url} failed after {int(retries) + 1} attempt(s): {last}. Check "
        f"the network{hint} (or set the config's mirror to a folder holding the file)."
    )


def raw_file_paths(
    name: str, entry: dict[str, Any], raw_dir: str | os.PathLike[str]
) -> dict[str, Path]:
    """Where each file of a dataset lives after fetching (role -> path), without fetching."""
    entry = resolve_entry(name, entry)
    source = entry["source"]
    if source["kind"] == "sklearn":
        return {}
    if source["kind"] == "local":
        return {role: Path(spec["path"]) for role, spec in source["files"].items()}
    return {role: Path(raw_dir) / spec["path"] for role, spec in source["files"].items()}


def fetch_dataset(
    name: str,
    entry: dict[str, Any],
    raw_dir: str | os.PathLike[str],
    mirror: str | os.PathLike[str] | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> dict[str, Path]:
    """Fetch every file of a dataset (role -> local path); ``{}`` for sklearn sources.

    Several roles may share one file (e.g. members of the same zip); it is fetched once.
    """
    entry = resolve_entry(name, entry)
    source = entry["source"]
    out: dict[str, Path] = {}
    done: dict[str, Path] = {}
    for role, spec in source.get("files", {}).items():
        key = f"{spec.get('path')}|{spec.get('sha256')}"
        if key not in done:
            done[key] = fetch(
                spec,
                raw_dir,
                mirror,
                retries,
                timeout,
                kind=source["kind"],
                dataset=name,
                role=role,
                backoff=backoff,
            )
        out[role] = done[key]
    return out


# --------------------------------------------------------------------------------------
# readers


@dataclass
class RawDataset:
    """A parsed dataset before splitting.

    ``X``: float32 ``(N, D)`` or images ``(N, C, H, W)`` in [0, 1]. ``y``: float64 for
    regression, int64 class indices for classification. ``X_test``/``y_test``: a given test
    set (IDX/CIFAR with train and test files), else ``None``.
    """

    name: str
    task: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    source_sha256: dict[str, str] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def _read_bytes(name: str, role: str, path: Path, member: str | None) -> bytes:
    """The bytes of ``path``, or of ``member`` inside the zip/tar archive ``path``."""
    what = f"dataset {name!r}, file {role!r} ({path}{'::' + member if member else ''})"
    if not path.is_file():
        raise DataError(f"{what}: file not found; fetch the dataset first")
    if member is None:
        return path.read_bytes()
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                try:
                    return zf.read(member)
                except KeyError:
                    names = [n for n in zf.namelist() if not n.endswith("/")]
                    raise DataError(
                        f"{what}: no member {member!r} in the zip; members include "
                        f"{', '.join(names[:12])}{' ...' if len(names) > 12 else ''}"
                    ) from None
        if tarfile.is_tarfile(path):
            with tarfile.open(path) as tf:
                try:
                    fh = tf.extractfile(member)
                except KeyError:
                    fh = None
                if fh is None:
                    raise DataError(f"{what}: no regular-file member {member!r} in the tar archive")
                return fh.read()
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise DataFormatError(
            f"{what}: the archive is corrupt ({type(exc).__name__}: {exc}). Delete {path} and "
            f"run again to fetch a fresh copy, or replace it with the canonical file (and "
            f"check its sha256 in the config)"
        ) from exc
    raise DataError(f"{what}: 'member' is set but the file is neither a zip nor a tar archive")


def _norm_label(value: Any) -> str:
    """Canonical text of a label: stripped; integral numbers without '.0' (1.0 -> '1')."""
    text = str(value).strip()
    try:
        num = float(text)
    except ValueError:
        return text
    if math.isfinite(num) and num == int(num):
        return str(int(num))
    return text


def _split_rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Rows of a delimited text (any of CRLF, LF or CR-only line endings), blank lines dropped.

    Returns ``(line_number, cells)`` pairs (1-based physical line numbers).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        cells = next(csv.reader([line], delimiter=delimiter))
        rows.append((lineno, [c.strip() for c in cells]))
    return rows


def _resolve_column(where: str, col: Any, names: list[str], what: str) -> int:
    if isinstance(col, bool):
        raise DataError(f"{where}: {what} {col!r} must be a column name or index")
    if isinstance(col, int):
        idx = col + len(names) if col < 0 else col
        if not 0 <= idx < len(names):
            raise DataError(
                f"{where}: {what} column index {col} is out of range (the file has "
                f"{len(names)} columns); fix reader.{what} in the config"
            )
        return idx
    key = str(col)
    if key in names:
        return names.index(key)
    raise DataError(
        f"{where}: {what} column {key!r} not found; the columns are {', '.join(names)}. "
        f"Fix reader.{what} (names need reader.header: true or reader.names)"
    )


def _to_float(where: str, cell: str, colname: str, lineno: int) -> float:
    if cell.strip().lower() in MISSING_TOKENS:
        raise DataFormatError(
            f"{where}: missing value {cell!r} in column {colname!r} at line {lineno}; remove "
            f"or impute the row before use"
        )
    try:
        value = float(cell)
    except ValueError:
        raise DataFormatError(
            f"{where}: non-numeric value {cell!r} in column {colname!r} at line {lineno}; map it "
            f"with reader.categorical or drop the column from reader.features"
        ) from None
    if not math.isfinite(value):
        raise DataFormatError(
            f"{where}: non-finite value {cell!r} in column {colname!r} at line {lineno}"
        )
    if abs(value) > FLOAT32_MAX:
        raise DataFormatError(
            f"{where}: value {cell!r} in column {colname!r} at line {lineno} is beyond the "
            f"float32 range (+-{FLOAT32_MAX:.4g}) the splits are stored in; rescale the column "
            f"(e.g. change its units) or drop it from reader.features"
        )
    return value


def _decode(where: str, raw: bytes, encoding: str | None) -> str:
    """Text of a data file, decoded strictly (a wrong byte is an error, never a guess)."""
    codec = encoding or "utf-8"
    if codecs.lookup(codec).name == "utf-8":
        codec = "utf-8-sig"  # a leading byte-order mark is not part of the first cell
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        lineno = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.end]
        raise DataFormatError(
            f"{where}: byte(s) {bad!r} at line {lineno} (byte offset {exc.start}) are not valid "
            f"{encoding or 'utf-8'}; set reader.encoding to the file's encoding (e.g. latin-1 "
            f"or cp1252) or re-encode the file as UTF-8"
        ) from None


def _finite_cast(where: str, values: np.ndarray, dtype: Any, what: str) -> np.ndarray:
    """``values.astype(dtype)``, refusing a result with NaN or inf (overflow in the cast)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(values).astype(dtype)
    if np.issubdtype(out.dtype, np.floating) and not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0].tolist()
        raise DataFormatError(
            f"{where}: {what} is not finite at index {bad} after conversion to {out.dtype} "
            f"(a value too large for {out.dtype}); rescale the offending column of the file"
        )
    return out


def _class_targets(
    where: str,
    raw: list[tuple[int, str]],
    label_map: dict[Any, Any] | None,
    class_bins: list[list[float]] | None,
    colname: str,
) -> tuple[np.ndarray, list[str]]:
    """Class indices (int64) and class names from raw target cells."""
    if label_map is not None and class_bins is not None:
        raise DataError(f"{where}: set reader.label_map or reader.class_bins, not both")
    if class_bins is not None:
        bins = [(float(lo), float(hi)) for lo, hi in class_bins]
        ys = []
        for lineno, cell in raw:
            v = _to_float(where, cell, colname, lineno)
            hits = [k for k, (lo, hi) in enumerate(bins) if lo <= v <= hi]
            if not hits:
                raise DataFormatError(
                    f"{where}: target value {cell!r} at line {lineno} lies outside every "
                    f"reader.class_bins range {bins}; widen the bins"
                )
            ys.append(hits[0])
        names = [f"{_norm_label(lo)}-{_norm_label(hi)}" for lo, hi in bins]
        return np.asarray(ys, dtype=np.int64), names
    if label_map is not None:
        mapping = {_norm_label(k): int(v) for k, v in label_map.items()}
        n = max(mapping.values()) + 1
        if sorted(set(mapping.values())) != list(range(n)):
            raise DataError(
                f"{where}: reader.label_map must map onto 0..C-1 without gaps, got "
                f"{sorted(set(mapping.values()))}"
            )
        names = ["/".join(k for k, v in mapping.items() if v == c) for c in range(n)]
        ys = []
        for lineno, cell in raw:
            key = _norm_label(cell)
            if key not in mapping:
                raise DataFormatError(
                    f"{where}: label {cell!r} at line {lineno} is not in reader.label_map "
                    f"({', '.join(mapping)}); add it to the map or clean the file"
                )
            ys.append(mapping[key])
        return np.asarray(ys, dtype=np.int64), names
    labels = []
    for lineno, cell in raw:
        if cell.strip().lower() in MISSING_TOKENS:
            raise DataFormatError(
                f"{where}: missing label {cell!r} in column {colname!r} at line {lineno}"
            )
        labels.append(_norm_label(cell))
    uniq = set(labels)
    try:
        names = sorted(uniq, key=float)
    except ValueError:
        names = sorted(uniq)
    index = {k: i for i, k in enumerate(names)}
    return np.asarray([index[k] for k in labels], dtype=np.int64), names


def _check_classes(where: str, y: np.ndarray, class_names: list[str]) -> None:
    present = np.unique(y)
    if present.size < 2:
        only = class_names[int(present[0])] if present.size else "none"
        raise DataFormatError(
            f"{where}: only one class present ({only!r}); classification needs at least two. "
            f"Check reader.target, reader.label_map / reader.class_bins, or the file"
        )


def _read_csv(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    reader = entry["reader"]
    role = "data"
    spec = entry["source"]["files"].get(role)
    if role not in files or spec is None:
        raise DataError(f"dataset {name!r}: a csv reader needs a 'data' file")
    member = spec.get("member")
    where = f"dataset {name!r}, file {files[role]}{'::' + member if member else ''}"
    text = _decode(where, _read_bytes(name, role, files[role], member), reader.get("encoding"))
    rows = _split_rows(text, reader["delimiter"])
    if reader["header"]:
        if not rows:
            raise DataFormatError(f"{where}: the file is empty (no header, no rows)")
        header_line, names = rows[0]
        rows = rows[1:]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DataFormatError(
                f"{where}: the header (line {header_line}) repeats column name(s) "
                f"{', '.join(map(repr, dup))}; rename them in the file, or set reader.header: "
                f"false with reader.names"
            )
    if not rows:
        raise DataFormatError(f"{where}: the file is empty (no data rows)")
    width = len(rows[0][1])
    if not reader["header"]:
        names = list(reader["names"]) if reader["names"] else [f"col{i}" for i in range(width)]
    if len(names) != width:
        raise DataFormatError(
            f"{where}: {len(names)} column names but the first data row has {width} cells"
        )
    for lineno, cells in rows:
        if len(cells) != width:
            raise DataFormatError(
                f"{where}: line {lineno} has {len(cells)} cells, expected {width} (check "
                f"reader.delimiter {reader['delimiter']!r})"
            )
    if entry["reader"]["kind"] == "series":
        col = _resolve_column(where, reader["column"], names, "column")
        values = np.asarray(
            [_to_float(where, cells[col], names[col], ln) for ln, cells in rows], dtype=np.float64
        )
        window, stride = int(reader["window"]), int(reader["stride"])
        if window < 2 or stride < 1:
            raise DataError(f"{where}: reader.window must be >= 2 and reader.stride >= 1")
        if values.size < window:
            raise DataFormatError(
                f"{where}: the series has {values.size} values, fewer than one window of {window}"
            )
        starts = np.arange(0, values.size - window + 1, stride)
        win = np.stack([values[s : s + window] for s in starts])
        X = _finite_cast(where, win[:, :-1], np.float32, "a window value")
        feature_names = [f"t-{window - 1 - i}" for i in range(window - 1)]
        if entry["task"] != "regression":
            raise DataError(f"{where}: a series reader gives a regression task")
        return RawDataset(name, "regression", X, win[:, -1].astype(np.float64), feature_names, [])
    if reader.get("target") is None:
        raise DataError(f"{where}: reader.target is required for csv files; name the target column")
    tcol = _resolve_column(where, reader["target"], names, "target")
    if reader["features"] is None:
        fcols = [i for i in range(width) if i != tcol]
    else:
        fcols = [_resolve_column(where, c, names, "features") for c in reader["features"]]
    if tcol in fcols:
        raise DataError(f"{where}: the target column {names[tcol]!r} is also a feature")
    if not fcols:
        raise DataError(f"{where}: no feature columns")
    categorical: dict[int, dict[str, float]] = {}
    for col, mapping in (reader["categorical"] or {}).items():
        idx = _resolve_column(where, col, names, "categorical")
        categorical[idx] = {_norm_label(k): float(v) for k, v in mapping.items()}
    X = np.empty((len(rows), len(fcols)), dtype=np.float64)
    for r, (lineno, cells) in enumerate(rows):
        for j, c in enumerate(fcols):
            cell = cells[c]
            if c in categorical:
                key = _norm_label(cell)
                if key not in categorical[c]:
                    raise DataFormatError(
                        f"{where}: value {cell!r} in column {names[c]!r} at line {lineno} is not "
                        f"in reader.categorical ({', '.join(categorical[c])})"
                    )
                X[r, j] = categorical[c][key]
            else:
                X[r, j] = _to_float(where, cell, names[c], lineno)
    raw_target = [(lineno, cells[tcol]) for lineno, cells in rows]
    if entry["task"] == "regression":
        y = np.asarray([_to_float(where, c, names[tcol], ln) for ln, c in raw_target])
        class_names: list[str] = []
    else:
        y, class_names = _class_targets(
            where, raw_target, reader["label_map"], reader["class_bins"], names[tcol]
        )
        _check_classes(where, y, class_names)
    return RawDataset(
        name,
        entry["task"],
        _finite_cast(where, X, np.float32, "a feature value"),
        y,
        [names[c] for c in fcols],
        class_names,
    )


def _parse_idx(where: str, data: bytes, expect_ndim: int) -> np.ndarray:
    """Parse an IDX file (gzip or plain) with unsigned-byte data: magic 0x0000 08 ndim."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DataFormatError(f"{where}: corrupt gzip stream: {exc}") from exc
    if len(data) < 4:
        raise DataFormatError(f"{where}: the file is empty or too short for an IDX header")
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or dtype_code != 0x08 or ndim != expect_ndim:
        raise DataFormatError(
            f"{where}: bad IDX magic number 0x{data[:4].hex()} (expected 0x000008"
            f"{expect_ndim:02x}: unsigned bytes, {expect_ndim} dimension(s)); is the file an "
            f"IDX {'image' if expect_ndim == 3 else 'label'} file?"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{where}: truncated IDX header")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    n = int(np.prod(dims))
    if len(data) - header != n:
        raise DataFormatError(
            f"{where}: IDX dimensions {dims} need {n} bytes of data, the file has "
            f"{len(data) - header}; the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx_pair(
    name: str, entry: dict[str, Any], files: dict[str, Path], prefix: str
) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for kind, ndim in (("images", 3), ("labels", 1)):
        role = f"{prefix}_{kind}"
        member = entry["source"]["files"][role].get("member")
        where = f"dataset {name!r}, file {role!r} ({files[role]})"
        arrays.append(_parse_idx(where, _read_bytes(name, role, files[role], member), ndim))
    images, labels = arrays
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"dataset {name!r}: {prefix} images ({images.shape[0]}) and labels "
            f"({labels.shape[0]}) differ in number"
        )
    if images.shape[0] == 0:
        raise DataFormatError(f"dataset {name!r}: the {prefix} IDX files hold no images")
    X = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return X, labels.astype(np.int64)


def _read_idx(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    have_train = {"train_images", "train_labels"} <= set(files)
    have_test = {"test_images", "test_labels"} <= set(files)
    if not (have_train or have_test):
        raise DataError(
            f"dataset {name!r}: an idx reader needs train_images + train_labels and/or "
            f"test_images + test_labels files"
        )
    parts = {}
    for prefix, ok in (("train", have_train), ("test", have_test)):
        if ok:
            X, y = _read_idx_pair(name, entry, files, prefix)
            parts[prefix] = (X, y)
    n_classes = int(max(int(y.max()) for _, y in parts.values()) + 1)
    class_names = [str(c) for c in range(n_classes)]
    if "train" in parts:
        X, y = parts["train"]
        Xt, yt = parts.get("test", (None, None))
    else:
        (X, y), Xt, yt = parts["test"], None, None
    where = f"dataset {name!r}, IDX labels"
    _check_classes(where, y, class_names)
    return RawDataset(name, "classification", X, y, ["intensity"], class_names, Xt, yt)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle CIFAR batches: numpy arrays, lists, dicts, bytes; nothing executable."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # bytes pickled by Python 3 at protocol < 3
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _load_cifar_batch(where: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:
        raise DataFormatError(f"{where}: not a CIFAR-10 python batch: {exc}") from exc
    if not isinstance(obj, dict):
        raise DataFormatError(f"{where}: a CIFAR-10 batch must be a dict")
    obj = {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}
    if "data" not in obj or "labels" not in obj:
        raise DataFormatError(f"{where}: a CIFAR-10 batch needs 'data' and 'labels' keys")
    data = np.asarray(obj["data"])
    labels = np.asarray(obj["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataFormatError(
            f"{where}: CIFAR-10 data must be uint8 (N, 3072), got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],):
        raise DataFormatError(f"{where}: {labels.shape[0]} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{where}: CIFAR-10 labels must lie in 0..9")
    X = (data.reshape(-1, 3, 32, 32).astype(np.float32)) / 255.0
    return X, labels


def _read_cifar(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    if "archive" not in files:
        raise DataError(f"dataset {name!r}: a cifar reader needs an 'archive' file (the tarball)")
    path = files["archive"]
    where = f"dataset {name!r}, file 'archive' ({path})"
    if not tarfile.is_tarfile(path):
        raise DataFormatError(f"{where}: not a tar archive (cifar-10-python.tar.gz expected)")
    batches: dict[str, bytes] = {}
    meta: bytes | None = None
    with tarfile.open(path) as tf:
        for m in tf.getmembers():
            base = m.name.rsplit("/", 1)[-1]
            if m.isfile() and (base.startswith("data_batch_") or base == "test_batch"):
                fh = tf.extractfile(m)
                assert fh is not None
                batches[base] = fh.read()
            elif m.isfile() and base == "batches.meta":
                fh = tf.extractfile(m)
                assert fh is not None
                meta = fh.read()
    train_names = [f"data_batch_{i}" for i in range(1, 6)]
    missing = [b for b in [*train_names, "test_batch"] if b not in batches]
    if missing:
        raise DataFormatError(f"{where}: missing batches {', '.join(missing)} in the tarball")
    train = [_load_cifar_batch(f"{where}::{b}", batches[b]) for b in train_names]
    X = np.concatenate([t[0] for t in train])
    y = np.concatenate([t[1] for t in train])
    Xt, yt = _load_cifar_batch(f"{where}::test_batch", batches["test_batch"])
    class_names = [str(i) for i in range(10)]
    if meta is not None:
        try:
            m = _NumpyOnlyUnpickler(io.BytesIO(meta), encoding="bytes").load()
            m = {k.decode() if isinstance(k, bytes) else k: v for k, v in m.items()}
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in m["label_names"]]
            if len(names) == 10:
                class_names = names
        except Exception:  # noqa: BLE001 - class names are cosmetic
            pass
    _check_classes(where, y, class_names)
    return RawDataset(name, "classification", X, y, ["red", "green", "blue"], class_names, Xt, yt)


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


def _read_sklearn(name: str, entry: dict[str, Any]) -> RawDataset:
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


def read_dataset(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    """Parse a dataset's fetched files (role -> path, from :func:`fetch_dataset`)."""
    entry = resolve_entry(name, entry)
    files = {role: Path(p) for role, p in files.items()}
    kind = entry["reader"]["kind"]
    source_kind = entry["source"]["kind"]
    if kind == "sklearn" or source_kind == "sklearn":
        if source_kind != "sklearn" or kind != "sklearn":
            raise DataError(
                f"dataset {name!r}: reader.kind sklearn goes with source.kind sklearn only"
            )
        return _read_sklearn(name, entry)
    missing = [r for r in entry["source"]["files"] if r not in files]
    if missing:
        raise DataError(f"dataset {name!r}: no local path given for file(s) {', '.join(missing)}")
    if kind in ("csv", "series"):
        raw = _read_csv(name, entry, files)
    elif kind == "idx":
        raw = _read_idx(name, entry, files)
    elif kind == "cifar":
        raw = _read_cifar(name, entry, files)
    else:
        raise DataError(f"dataset {name!r}: unknown reader.kind {kind!r}")
    if raw.task != entry["task"]:
        raise DataError(f"dataset {name!r}: the {kind} reader gives a {raw.task} task")
    raw.source_sha256 = {
        role: sha256_file(path) for role, path in files.items() if role in entry["source"]["files"]
    }
    return raw


# --------------------------------------------------------------------------------------
# split and scaling


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


def inverse_target(y: np.ndarray, scaler_meta: dict[str, Any]) -> np.ndarray:
    """Map scaled regression targets (or predictions) back to the original scale.

    ``original = scaled * scale + center``. A predictive standard deviation maps by
    ``std * scale`` alone.
    """
    center = float(scaler_meta["center"][0]) if scaler_meta.get("center") else 0.0
    scale = float(scaler_meta["scale"][0]) if scaler_meta.get("scale") else 1.0
    return np.asarray(y, dtype=np.float64) * scale + center


def prepare_split(
    name: str, entry: dict[str, Any], raw: RawDataset, replicate: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split and scale one replicate; return ``(arrays, metadata)`` as in ARCHITECTURE.md.

    The split seed is ``split.seed`` (plus ``replicate`` when ``split.reshuffle``). A given
    test set (IDX/CIFAR train + test files) is used as is; otherwise ``test_fraction`` of the
    rows go to the test set, stratified by class when ``split.stratify`` (classification).
    Scalers are fitted on the training rows only, or on every row with
    ``preprocessing.fit_on: all`` (the authors' leak, for the bug-compatible config).
    """
    from sklearn.model_selection import train_test_split

    entry = resolve_entry(name, entry)
    split = entry["split"]
    prep = entry["preprocessing"]
    replicate = int(replicate)
    # Which replicates exist is the workflow's business (split.replicates); any index >= 0
    # has a well-defined split, so adding replicates never changes existing ones.
    if replicate < 0:
        raise DataError(f"dataset {name!r}: replicate must be >= 0, got {replicate}")
    seed = int(split["seed"]) + (replicate if split["reshuffle"] else 0)
    task = raw.task
    if raw.X_test is not None and raw.y_test is not None:
        X_tr, y_tr, X_te, y_te = raw.X, raw.y, raw.X_test, raw.y_test
        if split["reshuffle"]:  # same sets, reshuffled order per replicate
            rng = np.random.default_rng(seed)
            perm = rng.permutation(len(y_tr))
            X_tr, y_tr = X_tr[perm], y_tr[perm]
    else:
        stratify = raw.y if (task == "classification" and split["stratify"]) else None
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
    images = raw.X.ndim > 2
    axes = (0, 2, 3) if images else (0,)
    where = f"dataset {name!r}, replicate {replicate}"
    # fit_on: all is the authors' leak (bug-compatible): the scalers see the test rows too
    leak = prep.get("fit_on", "train") == "all"
    X_fit = np.concatenate([X_tr, X_te]) if leak else X_tr
    fscaler = _scaler(prep["features"], X_fit, axes)
    _check_scaler(where, fscaler, "preprocessing.features")
    channel_axis = 1 if images else None
    X_tr_s = _finite_cast(where, _apply(X_tr, fscaler, channel_axis), np.float32, "X_train")
    X_te_s = _finite_cast(where, _apply(X_te, fscaler, channel_axis), np.float32, "X_test")
    if task == "regression":
        y_fit = np.concatenate([y_tr, y_te]) if leak else y_tr
        tscaler = _scaler(prep["target"], np.asarray(y_fit, dtype=np.float64), (0,))
        _check_scaler(where, tscaler, "preprocessing.target")
        y_tr_s = _finite_cast(where, _apply(np.asarray(y_tr), tscaler, None), np.float32, "y_train")
        y_te_s = _finite_cast(where, _apply(np.asarray(y_te), tscaler, None), np.float32, "y_test")
        n_outputs = 1
    else:
        tscaler = {"kind": "none", "center": [0.0], "scale": [1.0]}
        y_tr_s = np.asarray(y_tr, dtype=np.int64)
        y_te_s = np.asarray(y_te, dtype=np.int64)
        n_outputs = raw.n_classes
    arrays = {"X_train": X_tr_s, "y_train": y_tr_s, "X_test": X_te_s, "y_test": y_te_s}
    meta = {
        "dataset": name,
        "task": task,
        "n_features": list(X_tr_s.shape[1:]) if images else int(X_tr_s.shape[1]),
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
