"""benchmarks/scheduler_overhead.py runs real Snakemake and prints one row per timespan."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location(
        "scheduler_overhead", ROOT / "benchmarks" / "scheduler_overhead.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_row_per_timespan_with_measured_times(capsys):
    _module().main(["--jobs", "3", "--seconds", "0", "--timespans", "100/1s", "10/1s"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["100/1s", "10/1s"]
    for row in rows[1:]:
        wall, cpu = (float(cell.strip().rstrip(" s")) for cell in row.split("|")[2:4])
        assert wall > 0 and cpu > 0
    assert rows[1].split("|")[4].strip() == "1.00"


def test_default_profile_sets_the_measured_timespan():
    text = (ROOT / "profiles" / "default" / "config.yaml").read_text()
    assert "max-jobs-per-timespan: 1000/5s" in text
