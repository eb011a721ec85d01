"""Parse a dataset's fetched files into a :class:`~bayesprune.data.raw.RawDataset`.

:data:`READERS` maps each ``reader.kind`` of the config to its reader, a function
``(name, resolved entry, files: role -> path) -> RawDataset``. A new kind of dataset is one
reader module (``reader_<kind>.py``) and one entry here (and the kind in
``bayesprune/schemas/dataset.schema.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bayesprune.data.entry import resolve_entry
from bayesprune.data.errors import DataError
from bayesprune.data.raw import RawDataset
from bayesprune.data.reader_cifar import read_cifar
from bayesprune.data.reader_csv import read_csv
from bayesprune.data.reader_idx import read_idx
from bayesprune.data.reader_sklearn import read_sklearn
from bayesprune.io import sha256_file

Reader = Callable[[str, dict[str, Any], dict[str, Path]], RawDataset]

READERS: dict[str, Reader] = {
    "csv": read_csv,
    "series": read_csv,
    "idx": read_idx,
    "cifar": read_cifar,
    "sklearn": read_sklearn,
}


def read_dataset(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    """Parse a dataset's fetched files (role -> path, from :func:`bayesprune.data.download.fetch_dataset`)."""
    entry = resolve_entry(name, entry)
    files = {role: Path(p) for role, p in files.items()}
    kind = entry["reader"]["kind"]
    source_kind = entry["source"]["kind"]
    if (kind == "sklearn") != (source_kind == "sklearn"):
        raise DataError(f"dataset {name!r}: reader.kind sklearn goes with source.kind sklearn only")
    missing = [r for r in entry["source"]["files"] if r not in files]
    if missing:
        raise DataError(f"dataset {name!r}: no local path given for file(s) {', '.join(missing)}")
    if kind not in READERS:
        raise DataError(f"dataset {name!r}: unknown reader.kind {kind!r}")
    raw = READERS[kind](name, entry, files)
    if raw.task != entry["task"]:
        raise DataError(f"dataset {name!r}: the {kind} reader gives a {raw.task} task")
    raw.source_sha256 = {
        role: sha256_file(path) for role, path in files.items() if role in entry["source"]["files"]
    }
    return raw
