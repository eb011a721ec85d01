"""A dataset's config entry (``datasets: {name: entry}``): defaults filled in and checked.

The defaults mirror ``bayesprune/schemas/dataset.schema.yaml`` (a test keeps the two in step), so
the package works on entries that did not pass through the config loader.
"""

from __future__ import annotations

import codecs
import copy
import re
from pathlib import Path
from typing import Any

from bayesprune.data.errors import DataError
from bayesprune.data.reader_sklearn import SKLEARN_DATASETS

FILE_ROLES = ("data", "archive", "train_images", "train_labels", "test_images", "test_labels")

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

    Mirrors the defaults of ``bayesprune/schemas/dataset.schema.yaml`` (a test keeps the two in
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
    kind = _check_source(name, out.get("source"))
    out["reader"] = _resolve_reader(name, out.get("reader"), kind)
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


def _check_source(name: str, source: Any) -> str:
    """Check ``source`` in place (sha256 lower-cased, sklearn ``files`` defaulted); its kind."""
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
        return kind
    files = source.get("files")
    if not isinstance(files, dict) or not files:
        raise DataError(
            f"dataset {name!r}: a {kind} source needs source.files (role -> file), e.g. "
            f"{{data: {{url: ..., sha256: ..., path: ...}}}}"
        )
    for role, spec in files.items():
        _check_file_spec(name, kind, role, spec)
    return kind


def _check_file_spec(name: str, kind: str, role: str, spec: Any) -> None:
    """One file of a url or local source: known role, a path, a URL with its sha256."""
    if role not in FILE_ROLES:
        raise DataError(
            f"dataset {name!r}: unknown file role {role!r} (use one of {', '.join(FILE_ROLES)})"
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


def _resolve_reader(name: str, given: dict[str, Any] | None, source_kind: str) -> dict[str, Any]:
    """The reader block with defaults (kind: sklearn for sklearn sources, else csv), checked."""
    reader = {**copy.deepcopy(_DEFAULT_READER), **(given or {})}
    reader.setdefault("kind", "sklearn" if source_kind == "sklearn" else "csv")
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
    return reader


# Absolute (/x, \\x, C:x) or climbing (a ".." part): the same test as dataset.schema.yaml.
UNSAFE_RAW_PATH = re.compile(r"(^[/\\])|(^|[/\\])\.\.([/\\]|$)|^[A-Za-z]:")


def _check_raw_path(name: str, role: str, rel: str) -> None:
    """A url source's ``path`` must stay inside ``data/raw`` (and the mirror folder)."""
    if UNSAFE_RAW_PATH.search(rel):
        raise DataError(
            f"dataset {name!r}, file {role!r}: path {rel!r} must be relative and stay inside "
            f"data/raw (no leading '/', no '..'); set source.files.{role}.path to a plain "
            f"relative name such as {Path(rel.replace(chr(92), '/')).name or 'file.csv'!r}"
        )
