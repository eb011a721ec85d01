"""The ``idx`` reader: IDX image + label files (gzip or plain, e.g. MNIST) into a
:class:`RawDataset` of ``(N, 1, H, W)`` images in [0, 1], with the given test set."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.errors import DataError, DataFormatError
from bayesprune.data.raw import RawDataset, check_classes, read_bytes


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
        arrays.append(_parse_idx(where, read_bytes(name, role, files[role], member), ndim))
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


def read_idx(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    """``reader.kind`` idx: MNIST-style image and label files, train and/or test."""
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
    check_classes(where, y, class_names)
    return RawDataset(name, "classification", X, y, ["intensity"], class_names, Xt, yt)
