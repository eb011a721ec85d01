"""Are two workflow runs' outputs the same? File by file, timing fields aside.

Usage:

    .venv/bin/python benchmarks/compare_runs.py WORKDIR_A WORKDIR_B

Compares every file under the two working directories (``results/``, ``data/``): JSON and
CSV by value (keys and columns that hold wall times, e.g. ``seconds`` or ``*_seconds``,
left out), npz arrays exactly, NetCDF posteriors group by group (every variable exactly,
attributes as text, time attributes left out), everything else byte for byte. Logs, Snakemake
benchmarks, HTML and the ``.snakemake`` folder are skipped. Prints each file only one side has
and each file that differs (with the first difference), then a count; exits 1 when anything
differs. Used to check that a refactoring keeps a run's outputs bit-identical.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

TIMING = {"seconds", "epoch_seconds", "gate_seconds", "elapsed_s", "created_at", "runtime"}
SKIPPED_DIRS = {"logs", "benchmarks", ".snakemake"}
SKIPPED_SUFFIXES = {".log", ".html", ".zip"}


def _timing(key: str) -> bool:
    return key in TIMING or key.endswith("_seconds") or "time" in key


def _strip(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not _timing(k)}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _csv(a: Path, b: Path) -> str | None:
    fa, fb = pd.read_csv(a), pd.read_csv(b)
    fa = fa[[c for c in fa.columns if not _timing(c)]]
    fb = fb[[c for c in fb.columns if not _timing(c)]]
    try:
        pd.testing.assert_frame_equal(fa, fb, check_exact=True)
    except AssertionError as err:
        return "csv: " + str(err).splitlines()[0][:200]
    return None


def _npz(a: Path, b: Path) -> str | None:
    with np.load(a) as x, np.load(b) as y:
        if sorted(x.files) != sorted(y.files):
            return f"npz arrays {sorted(x.files)} vs {sorted(y.files)}"
        for key in x.files:
            if not np.array_equal(x[key], y[key], equal_nan=x[key].dtype.kind in "fc"):
                return f"npz array {key}"
    return None


def _netcdf(a: Path, b: Path) -> str | None:
    from arviz import from_netcdf

    ia, ib = from_netcdf(a), from_netcdf(b)
    if ia.groups() != ib.groups():
        return f"groups {ia.groups()} vs {ib.groups()}"
    for group in ia.groups():
        da, db = ia[group], ib[group]
        if sorted(da.data_vars) != sorted(db.data_vars):
            return f"{group}: variables differ"
        for var in da.data_vars:
            if not np.array_equal(da[var].values, db[var].values, equal_nan=True):
                return f"{group}/{var}"
        attrs_a = {k: str(v) for k, v in da.attrs.items() if not _timing(k)}
        attrs_b = {k: str(v) for k, v in db.attrs.items() if not _timing(k)}
        if attrs_a != attrs_b:
            keys = sorted(
                k for k in attrs_a.keys() | attrs_b.keys() if attrs_a.get(k) != attrs_b.get(k)
            )
            return f"{group} attributes {keys}"
    return None


def difference(a: Path, b: Path) -> str | None:
    """None when the two files hold the same outputs, else what differs first."""
    if a.suffix == ".json":
        same = _strip(json.loads(a.read_text())) == _strip(json.loads(b.read_text()))
        return None if same else "json"
    readers = {".csv": _csv, ".npz": _npz, ".nc": _netcdf}
    if a.suffix in readers:
        return readers[a.suffix](a, b)
    return None if a.read_bytes() == b.read_bytes() else "bytes"


def _files(root: Path) -> set[Path]:
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file()
        and not SKIPPED_DIRS & set(p.relative_to(root).parts)
        and p.suffix not in SKIPPED_SUFFIXES
        and p.parent != root  # files beside results/ and data/ (e.g. a run's own log)
    }


def compare(a: Path, b: Path) -> list[str]:
    """One line per file that only one side has or that differs."""
    fa, fb = _files(a), _files(b)
    lines = [f"only in {'A' if p in fa else 'B'}: {p}" for p in sorted(fa ^ fb)]
    for path in sorted(fa & fb):
        what = difference(a / path, b / path)
        if what:
            lines.append(f"differs: {path} ({what})")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    a, b = Path(argv[0]), Path(argv[1])
    lines = compare(a, b)
    print("\n".join(lines))
    n = len(_files(a) & _files(b))
    print(f"{n} files in both, {len(lines)} differences")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
