"""CPU time of Snakemake's own process against its ``--max-jobs-per-timespan``.

Usage:

    .venv/bin/python benchmarks/scheduler_overhead.py [--jobs 400] [--seconds 1] \
        [--timespans 100/1s 1000/5s 1000/10s]

Runs one throw-away workflow (``--jobs`` independent jobs, each ``sleep --seconds``) with
``--cores 2`` once per timespan, in a fresh temporary folder each time, and prints each run's
wall time and the CPU time of the Snakemake process (``getrusage`` of the children: the
jobs' ``sleep`` and ``echo`` cost a few milliseconds each, the rest is Snakemake), with the
ratio to the first timespan. The workflow profile is skipped (``--workflow-profile none``)
so that only the timespan differs. The exit delay (Snakemake waits for its last timer) shows
as extra wall time: at most one timespan.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """\
rule all:
    input: expand("out/{{i}}.txt", i=range({jobs}))

rule one:
    output: "out/{{i}}.txt"
    shell: "sleep {seconds}; echo {{wildcards.i}} > {{output}}"
"""


def run_once(jobs: int, seconds: float, timespan: str) -> tuple[float, float]:
    """Wall and CPU seconds of one Snakemake run of the sleep workflow at ``timespan``."""
    with tempfile.TemporaryDirectory(prefix="bp-sched-") as tmp:
        snakefile = Path(tmp) / "Snakefile"
        snakefile.write_text(SNAKEFILE.format(jobs=jobs, seconds=seconds))
        cmd = [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(snakefile),
            "--directory",
            tmp,
            "--cores",
            "2",
            "--scheduler",
            "greedy",
            "--workflow-profile",
            "none",
            "--max-jobs-per-timespan",
            timespan,
            "--quiet",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"snakemake failed at {timespan}:\n{result.stderr[-3000:]}")
        if len(list((Path(tmp) / "out").glob("*.txt"))) != jobs:
            raise SystemExit(f"snakemake at {timespan} did not write all {jobs} outputs")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--timespans", nargs="+", default=["100/1s", "1000/5s", "1000/10s"])
    args = parser.parse_args(argv)
    print(f"{args.jobs} jobs of sleep {args.seconds:g} s, --cores 2\n")
    print("| --max-jobs-per-timespan | wall | Snakemake CPU | CPU / first |")
    print("|---|---|---|---|")
    first = None
    for timespan in args.timespans:
        wall, cpu = run_once(args.jobs, args.seconds, timespan)
        first = cpu if first is None else first
        print(f"| {timespan} | {wall:.1f} s | {cpu:.1f} s | {cpu / first:.2f} |", flush=True)


if __name__ == "__main__":
    main()
