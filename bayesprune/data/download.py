"""Download of a dataset's files: mirror first, sha256 always, retries, atomic.

:func:`fetch_dataset` puts every file of a url source under ``raw_dir`` (copied from the
mirror folder when it holds the file, downloaded otherwise), always verified by sha256.
Nothing partial or unverified is ever left behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bayesprune.data.entry import UNSAFE_RAW_PATH, resolve_entry
from bayesprune.data.errors import ChecksumError, DataError, DownloadError
from bayesprune.io import atomic_path, sha256_file

_USER_AGENT = "bayesprune-data/0.1 (+https://github.com/)"


def _fmt(dataset: str | None, role: str | None) -> str:
    parts = []
    if dataset:
        parts.append(f"dataset {dataset!r}")
    if role:
        parts.append(f"file {role!r}")
    return ", ".join(parts) if parts else "file"


def _copy_verified(src: Path, dest: Path, expected: str, what: str, origin: str) -> None:
    """Copy ``src`` to ``dest`` atomically, hashing on the way; raise if sha256 differs."""
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
        return _local_file(Path(rel), expected, what)
    if kind != "url":
        raise DataError(f"{what}: nothing to fetch for a {kind!r} source")
    url = file_spec.get("url")
    if not url:
        raise DataError(f"{what}: a url source needs 'url'")
    if not expected:
        raise DataError(
            f"{what}: a URL without a sha256 is rejected; add the file's sha256 to the config"
        )
    if Path(rel).is_absolute() or UNSAFE_RAW_PATH.search(str(rel)):
        raise DataError(f"{what}: path {rel!r} must be relative and stay inside the raw folder")
    dest = Path(raw_dir) / rel
    if dest.is_file() and sha256_file(dest) == expected:
        return dest
    if mirror is not None:
        candidate = Path(mirror) / rel
        if candidate.is_file():
            _copy_verified(candidate, dest, expected, what, f"mirror file {candidate}")
            return dest
    hint = Path(mirror) / rel if mirror is not None else None
    _download(
        url, dest, expected, what, retries=retries, timeout=timeout, backoff=backoff, hint=hint
    )
    return dest


def _local_file(path: Path, expected: str | None, what: str) -> Path:
    """A local source's file, used in place: it must exist and match its sha256 when given."""
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


def _download(
    url: str,
    dest: Path,
    expected: str,
    what: str,
    *,
    retries: int,
    timeout: float,
    backoff: float,
    hint: Path | None = None,
) -> None:
    """Download ``url`` to ``dest``, ``retries`` extra attempts on transient failures (waiting
    ``backoff * 2**attempt`` s); ``hint``: where the mirror would hold the file."""
    last: Exception | None = None
    for attempt in range(max(0, int(retries)) + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _download_once(url, dest, expected, timeout, what)
            return
        except _Transient as exc:
            last = exc
    where = f" or place it at {hint}" if hint is not None else ""
    raise DownloadError(
        f"{what}: downloading {url} failed after {int(retries) + 1} attempt(s): {last}. Check "
        f"the network{where} (or set the config's mirror to a folder holding the file)."
    )


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
