"""Wall time of one workflow run, per stage: the table docs/reproduction.md quotes.

Usage:

    .venv/bin/python benchmarks/run_stages.py WORKDIR [--start EPOCH --end EPOCH] [--log FILE]

Reads every Snakemake benchmark file under ``WORKDIR/results/benchmarks/<rule>/...`` (one per
job: wall seconds ``s`` and ``cpu_time``) and prints, per rule, the number of jobs, the mean
wall and CPU seconds per job and the total job time, plus (Markdown) the mean per dataset of
the MCMC stages. With ``--start/--end`` (Unix seconds, e.g. written by ``date +%s`` around
the run) it also prints the run's wall time and how busy the cores were. With ``--log`` (the
run's Snakemake log, e.g. ``.snakemake/log/*.snakemake.log``) it also prints every rule's job
time from the log's start and finish stamps (1 s resolution): the rules without a
``benchmark:`` file (LOO, tables, figures) included.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

STAGES = ("sample", "prune", "resample")


def read_benchmarks(workdir: Path) -> list[dict]:
    """One record per job: rule, dataset (the folder below the rule), wall and CPU seconds."""
    rows = []
    root = workdir / "results" / "benchmarks"
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root)
        with path.open() as fh:
            record = next(csv.DictReader(fh, delimiter="\t"), None)
        if record is None:
            continue
        rows.append(
            {
                "rule": rel.parts[0],
                "dataset": rel.parts[1] if len(rel.parts) > 2 else "",
                "wall": float(record["s"]),
                "cpu": float(record.get("cpu_time") or 0.0),
            }
        )
    return rows


def stage_table(rows: list[dict]) -> str:
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_rule[r["rule"]].append(r)
    lines = [
        "| rule | jobs | mean wall per job | mean CPU per job | total job time (wall) |",
        "|---|---|---|---|---|",
    ]
    for rule, jobs in sorted(by_rule.items(), key=lambda kv: -sum(j["wall"] for j in kv[1])):
        wall = sum(j["wall"] for j in jobs)
        cpu = sum(j["cpu"] for j in jobs)
        lines.append(
            f"| {rule} | {len(jobs)} | {wall / len(jobs):.1f} s | {cpu / len(jobs):.1f} s "
            f"| {wall / 60:.1f} min |"
        )
    total = sum(r["wall"] for r in rows)
    lines.append(f"| **all** | {len(rows)} | | | {total / 60:.1f} min |")
    return "\n".join(lines)


def dataset_table(rows: list[dict]) -> str:
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    datasets: list[str] = []
    for r in rows:
        if r["rule"] in STAGES:
            cells[(r["dataset"], r["rule"])].append(r["wall"])
            if r["dataset"] not in datasets:
                datasets.append(r["dataset"])
    lines = [
        "| dataset | " + " | ".join(f"{s} (mean wall per job)" for s in STAGES) + " |",
        "|---|" + "---|" * len(STAGES),
    ]
    for d in datasets:
        vals = [cells.get((d, s), []) for s in STAGES]
        lines.append(
            f"| {d} | " + " | ".join(f"{sum(v) / len(v):.1f} s" if v else "" for v in vals) + " |"
        )
    return "\n".join(lines)


def log_durations(text: str) -> dict[str, list[float]]:
    """Seconds from start to finish of every job in a Snakemake log, by rule."""
    stamp, rule, started, rule_of = None, None, {}, {}
    durations: dict[str, list[float]] = defaultdict(list)
    for line in text.splitlines():
        if m := re.match(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$", line.strip()):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"(?:local)?rule (\w+):$", line.strip()):
            rule = m.group(1)
        elif (m := re.match(r"jobid: (\d+)$", line.strip())) and rule is not None:
            started[m.group(1)], rule_of[m.group(1)], rule = stamp, rule, None
        elif (m := re.match(r"Finished jobid: (\d+)", line.strip())) and m.group(1) in started:
            job = m.group(1)
            durations[rule_of[job]].append((stamp - started.pop(job)).total_seconds())
    return dict(durations)


def log_table(durations: dict[str, list[float]]) -> str:
    lines = ["| rule | jobs | total job time | longest job |", "|---|---|---|---|"]
    for rule, times in sorted(durations.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"| {rule} | {len(times)} | {sum(times) / 60:.1f} min | {max(times):.0f} s |")
    total = sum(sum(t) for t in durations.values())
    n = sum(len(t) for t in durations.values())
    lines.append(f"| **all** | {n} | {total / 60:.1f} min | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--start", type=float, help="run start, Unix seconds")
    parser.add_argument("--end", type=float, help="run end, Unix seconds")
    parser.add_argument("--log", type=Path, help="the run's Snakemake log")
    args = parser.parse_args()
    rows = read_benchmarks(args.workdir)
    if not rows:
        raise SystemExit(f"no benchmark files under {args.workdir / 'results' / 'benchmarks'}")
    print(stage_table(rows))
    print()
    print(dataset_table(rows))
    if args.start is not None and args.end is not None:
        wall = args.end - args.start
        busy = sum(r["wall"] for r in rows) / wall
        print()
        print(f"run wall time {wall / 60:.1f} min; job time / wall time = {busy:.2f} cores busy")
    if args.log is not None:
        print()
        print(log_table(log_durations(args.log.read_text())))


if __name__ == "__main__":
    main()
