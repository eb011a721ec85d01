"""Helpers to run the real workflow in a temporary folder (shared by the end-to-end tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``snakemake`` on this repository's Snakefile, working in ``workdir``."""
    cmd = [
        *SNAKEMAKE,
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *args,
    ]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def tiny_args(mirror: Path = SHARED) -> list[str]:
    """The tiny test config, with the shared dataset folder as mirror."""
    return ["--configfile", str(ROOT / "tests/configs/tiny.yaml"), "--config", f"mirror={mirror}"]
