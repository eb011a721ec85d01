"""Atomic file output and small readers/writers shared by every stage.

Every result is written to a temporary file in the destination folder and renamed into place
only once complete, so an interrupted or failing job never leaves a partial file and never
overwrites an earlier good result with garbage.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import math
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def _file_mode() -> int:
    """Permissions a plainly created file gets under the current umask (mkstemp uses 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


class UserError(Exception):
    """A problem the user fixes: its message names the thing and what to do.

    Workflow scripts (:func:`logged`) report it as one message, without a traceback.
    """


class UnreadableFileError(UserError):
    """A file exists but cannot be read: truncated, corrupt or not the expected format."""


# Temporary files of atomic writes: ".{name}.{host}.{pid}.{random}.tmp" beside the result.
_TMP_SUFFIX = ".tmp"
_FOREIGN_TMP_AGE_S = 24 * 3600.0
_OPEN_TEMPS: set[str] = set()  # temps of this process's writes under way


def _host() -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in os.uname().nodename) or "host"


def _temp_is_stale(tmp: Path) -> bool:
    """Whether the writer of an atomic-write temp file is gone (killed, crashed, finished).

    A temp of this host is stale when its process no longer runs; one written on another host
    (shared file system) only once it is a day old, since its process cannot be asked.
    """
    parts = tmp.name[: -len(_TMP_SUFFIX)].split(".")
    if len(parts) < 4 or not parts[-2].isdigit():
        return False  # not one of ours
    host, pid = parts[-3], int(parts[-2])
    if host != _host():
        try:
            return time.time() - tmp.stat().st_mtime > _FOREIGN_TMP_AGE_S
        except OSError:
            return False
    if pid == os.getpid():  # ours: stale unless a write is under way (a reused pid)
        return str(tmp) not in _OPEN_TEMPS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Remove what killed writers left of atomic writes: of the file ``path``, or under the
    folder ``path`` (recursively). Returns the removed files.

    This is the one cleaning mechanism for temp files: :func:`atomic_path` calls it for its
    destination before every write, and the workflow calls it on ``data/`` and ``results/``
    when a run starts, so a job killed with ``kill -9`` leaves nothing behind for good.
    """
    target = Path(path)
    if target.is_dir():
        candidates = target.rglob(f".*{_TMP_SUFFIX}")
    else:
        candidates = target.parent.glob(f".{glob.escape(target.name)}.*{_TMP_SUFFIX}")
    removed = []
    for tmp in candidates:
        if tmp.is_file() and _temp_is_stale(tmp):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched. Temp files
    of earlier writers of ``path`` that were killed are removed first
    (:func:`remove_stale_temps`).
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(dest)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.{_host()}.{os.getpid()}.", suffix=_TMP_SUFFIX, dir=dest.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    _OPEN_TEMPS.add(str(tmp_path))
    try:
        yield tmp_path
        os.chmod(tmp_path, _file_mode())
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    finally:
        _OPEN_TEMPS.discard(str(tmp_path))


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into strict JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented, key-sorted strict JSON (NaN/inf become null), atomically."""
    text = json.dumps(_jsonable(data), indent=2, sort_keys=True, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)


# What a reader raises on a truncated or garbled file (h5py and zipfile included).
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    UnicodeDecodeError,
)


@contextlib.contextmanager
def reading(path: str | os.PathLike[str], what: str = "file") -> Iterator[None]:
    """Turn any failure to read ``path`` inside the block into an :class:`UnreadableFileError`
    that names the file and the remedy (the one wrapper every reader of results goes through).
    """
    try:
        yield
    except UserError:
        raise
    except FileNotFoundError:
        raise UnreadableFileError(
            f"{path}: the {what} does not exist; run the workflow (snakemake) to make it"
        ) from None
    except _READ_ERRORS as exc:
        raise UnreadableFileError(
            f"{path}: cannot read this {what} ({type(exc).__name__}: {exc}). It is truncated "
            f"or corrupt (a full disk, a cut copy, an edit). Delete it and run the workflow "
            f"again: Snakemake makes it anew (or rerun its job with --forcerun)."
        ) from None


def read_output(path: str | os.PathLike[str], reader: Any, what: str = "file") -> Any:
    """``reader(path)`` through :func:`reading`, e.g. ``read_output(p, pd.read_csv)``."""
    with reading(path, what):
        return reader(path)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file; an unreadable one raises :class:`UnreadableFileError`."""
    with reading(path, "JSON file"), open(path) as fh:
        return json.load(fh)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_csv(path: str | os.PathLike[str], frame: Any) -> None:
    """Write a pandas DataFrame to CSV atomically (no index column)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def save_npz(path: str | os.PathLike[str], **arrays: Any) -> None:
    """Save arrays to a compressed ``.npz`` atomically (the name keeps its ``.npz``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz``; an unreadable one raises :class:`UnreadableFileError`."""
    with reading(path, "npz file"), np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def config_digest(obj: Any) -> str:
    """A short, stable digest of a JSON-able object (used to stamp results with their config)."""
    text = json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers, for provenance attributes."""
    import importlib.metadata as md

    out = {}
    for name in ("bayesprune", "torch", "numpy", "arviz", "scikit-learn", "snakemake"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


@contextlib.contextmanager
def logged(
    log_path: str | os.PathLike[str] | None, name: str = "bayesprune"
) -> Iterator[logging.Logger]:
    """Send this process's log records and warnings to ``log_path`` for the block's duration.

    An exception raised inside the block is written to the log with its traceback and
    re-raised, so a failing job's log says why it failed. A :class:`UserError` (bad data, an
    unreadable file, a setting that cannot work) is written as its message alone, to the log
    and to stderr, and the process exits with status 1.
    """
    root = logging.getLogger()
    handler: logging.Handler = (
        logging.FileHandler(log_path, mode="w") if log_path else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    logger = logging.getLogger(name)
    try:
        yield logger
    except UserError as err:
        # A problem the user fixes: the message says which and how; a traceback adds noise.
        logger.error("failed: %s", err)
        print(f"ERROR: {err}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    except BaseException:
        logger.exception("failed")
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
