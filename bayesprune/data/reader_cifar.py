"""The ``cifar`` reader: the CIFAR-10 python tarball into a :class:`RawDataset` of
``(N, 3, 32, 32)`` images in [0, 1], with its test batch; batches are unpickled safely."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.errors import DataError, DataFormatError
from bayesprune.data.raw import RawDataset, check_classes


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


def read_cifar(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    """``reader.kind`` cifar: the CIFAR-10 python tarball (5 training batches, 1 test)."""
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
    check_classes(where, y, class_names)
    return RawDataset(name, "classification", X, y, ["red", "green", "blue"], class_names, Xt, yt)
