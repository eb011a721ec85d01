"""A parsed dataset before splitting (:class:`RawDataset`) and what every reader shares:
reading a file or an archive member, casting without overflow, checking the classes."""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.errors import DataError, DataFormatError


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


def read_bytes(name: str, role: str, path: Path, member: str | None) -> bytes:
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


def finite_cast(where: str, values: np.ndarray, dtype: Any, what: str) -> np.ndarray:
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


def check_classes(where: str, y: np.ndarray, class_names: list[str]) -> None:
    """Classification needs at least two classes present."""
    present = np.unique(y)
    if present.size < 2:
        only = class_names[int(present[0])] if present.size else "none"
        raise DataFormatError(
            f"{where}: only one class present ({only!r}); classification needs at least two. "
            f"Check reader.target, reader.label_map / reader.class_bins, or the file"
        )
