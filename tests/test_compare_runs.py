"""benchmarks/compare_runs.py: two runs' outputs compared file by file, timing aside."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import compare_runs  # noqa: E402


def _run(root: Path, seconds: float, value: float) -> Path:
    out = root / "results" / "method_a" / "d"
    out.mkdir(parents=True)
    (out / "metrics.json").write_text(json.dumps({"rmse": 0.5, "seconds": seconds}))
    (out / "table.csv").write_text(f"a,mean_epoch_seconds\n1,{seconds}\n")
    np.savez(out / "arrays.npz", x=np.array([1.0, value]))
    (root / "results" / "logs").mkdir()
    (root / "results" / "logs" / "job.log").write_text(f"took {seconds} s")
    return root


def test_runs_that_differ_only_in_timing_are_the_same(tmp_path):
    a = _run(tmp_path / "a", seconds=1.0, value=2.0)
    b = _run(tmp_path / "b", seconds=9.0, value=2.0)
    assert compare_runs.compare(a, b) == []
    assert compare_runs.main([str(a), str(b)]) == 0


def test_a_changed_array_and_a_missing_file_are_reported(tmp_path):
    a = _run(tmp_path / "a", seconds=1.0, value=2.0)
    b = _run(tmp_path / "b", seconds=1.0, value=2.0 + 1e-15)
    (b / "results" / "method_a" / "d" / "extra.png").write_bytes(b"png")
    lines = compare_runs.compare(a, b)
    assert lines == [
        "only in B: results/method_a/d/extra.png",
        "differs: results/method_a/d/arrays.npz (npz array x)",
    ]
    assert compare_runs.main([str(a), str(b)]) == 1
