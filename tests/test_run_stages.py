"""benchmarks/run_stages.py reads a Snakemake log's job start and finish stamps per rule."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run_stages.py"
spec = importlib.util.spec_from_file_location("run_stages", SCRIPT)
run_stages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_stages)

LOG = """Select jobs to execute...

[Wed Dec  2 12:42:54 2026]
localrule download:
    output: data/raw/x.zip
    jobid: 4
    reason: Missing output files

[Wed Dec  2 12:42:55 2026]
rule sample:
    input: data/raw/x.zip
    jobid: 7
    wildcards: dataset=iris, rep=0

[Wed Dec  2 12:42:57 2026]
Finished jobid: 4 (Rule: download)
1 of 3 steps (33%) done

[Wed Dec  2 12:43:05 2026]
rule sample:
    jobid: 9

[Wed Dec  2 12:43:35 2026]
Finished jobid: 7 (Rule: sample)

[Wed Dec  2 12:44:05 2026]
Finished jobid: 9 (Rule: sample)
"""


def test_log_durations_pair_each_job_with_its_rule() -> None:
    durations = run_stages.log_durations(LOG)
    assert durations == {"download": [3.0], "sample": [40.0, 60.0]}
    table = run_stages.log_table(durations)
    assert "| sample | 2 | 1.7 min | 60 s |" in table
    assert table.splitlines()[-1] == "| **all** | 3 | 1.7 min | |"


def test_unfinished_jobs_are_left_out() -> None:
    text = LOG.rsplit("[Wed Dec  2 12:44:05 2026]", 1)[0]
    assert run_stages.log_durations(text)["sample"] == pytest.approx([40.0])
