"""The ``csv`` and ``series`` readers: delimited text (plain or an archive member) into a
:class:`RawDataset`; ``series`` makes windows of one column for one-step-ahead regression."""

from __future__ import annotations

import codecs
import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.errors import DataError, DataFormatError
from bayesprune.data.raw import RawDataset, check_classes, finite_cast, read_bytes

MISSING_TOKENS = frozenset({"", "?", "na", "nan", "n/a", "null", "none", "-"})
FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_csv(name: str, entry: dict[str, Any], files: dict[str, Path]) -> RawDataset:
    """``reader.kind`` csv (a feature table with a target column) or series (windows)."""
    reader = entry["reader"]
    role = "data"
    spec = entry["source"]["files"].get(role)
    if role not in files or spec is None:
        raise DataError(f"dataset {name!r}: a csv reader needs a 'data' file")
    member = spec.get("member")
    where = f"dataset {name!r}, file {files[role]}{'::' + member if member else ''}"
    text = _decode(where, read_bytes(name, role, files[role], member), reader.get("encoding"))
    names, rows = _table(where, reader, text)
    if entry["reader"]["kind"] == "series":
        return _series(name, entry, where, names, rows)
    return _tabular(name, entry, where, names, rows)


def _table(
    where: str, reader: dict[str, Any], text: str
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Column names and ``(line_number, cells)`` rows, every row as wide as the first."""
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
    return names, rows


def _series(
    name: str,
    entry: dict[str, Any],
    where: str,
    names: list[str],
    rows: list[tuple[int, list[str]]],
) -> RawDataset:
    """Windows of ``reader.window`` values every ``reader.stride``: the last one the target."""
    reader = entry["reader"]
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
    X = finite_cast(where, win[:, :-1], np.float32, "a window value")
    feature_names = [f"t-{window - 1 - i}" for i in range(window - 1)]
    if entry["task"] != "regression":
        raise DataError(f"{where}: a series reader gives a regression task")
    return RawDataset(name, "regression", X, win[:, -1].astype(np.float64), feature_names, [])


def _tabular(
    name: str,
    entry: dict[str, Any],
    where: str,
    names: list[str],
    rows: list[tuple[int, list[str]]],
) -> RawDataset:
    """Feature columns (numbers, or mapped by ``reader.categorical``) and the target column."""
    reader = entry["reader"]
    if reader.get("target") is None:
        raise DataError(f"{where}: reader.target is required for csv files; name the target column")
    tcol = _resolve_column(where, reader["target"], names, "target")
    if reader["features"] is None:
        fcols = [i for i in range(len(names)) if i != tcol]
    else:
        fcols = [_resolve_column(where, c, names, "features") for c in reader["features"]]
    if tcol in fcols:
        raise DataError(f"{where}: the target column {names[tcol]!r} is also a feature")
    if not fcols:
        raise DataError(f"{where}: no feature columns")
    X = _features(where, reader, names, rows, fcols)
    raw_target = [(lineno, cells[tcol]) for lineno, cells in rows]
    if entry["task"] == "regression":
        y = np.asarray([_to_float(where, c, names[tcol], ln) for ln, c in raw_target])
        class_names: list[str] = []
    else:
        y, class_names = _class_targets(
            where, raw_target, reader["label_map"], reader["class_bins"], names[tcol]
        )
        check_classes(where, y, class_names)
    return RawDataset(
        name,
        entry["task"],
        finite_cast(where, X, np.float32, "a feature value"),
        y,
        [names[c] for c in fcols],
        class_names,
    )


def _features(
    where: str,
    reader: dict[str, Any],
    names: list[str],
    rows: list[tuple[int, list[str]]],
    fcols: list[int],
) -> np.ndarray:
    """The feature matrix (float64) of columns ``fcols``."""
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
    return X


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
