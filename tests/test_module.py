"""The workflow as a Snakemake module of another workflow, and run from another folder."""

from __future__ import annotations

import os
import subprocess

import pytest
from smk import ROOT, SHARED, SNAKEMAKE, tiny_args

pytestmark = pytest.mark.slow


def _dry_run(cwd, *args: str) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [*SNAKEMAKE, "--dry-run", "--cores", "1", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-5000:]
    return out


def _host_workflow(folder, prefix: str) -> None:
    """A Snakefile elsewhere that loads this workflow as a module with the tiny config and
    runs its start and success hooks (Snakemake runs only the host's own)."""
    use = "use rule * from bayesprune" + (f" as {prefix}*" if prefix else "")
    (folder / "Snakefile").write_text(
        f'configfile: "{ROOT / "tests/configs/tiny.yaml"}"\n\n\n'
        f'config["mirror"] = "{SHARED}"\n\n\n'
        "module bayesprune:\n"
        f'    snakefile:\n        "{ROOT / "Snakefile"}"\n'
        "    config:\n        config\n\n\n"
        f"{use}\n\n\n"
        "onstart:\n    bayesprune.onstart()\n\n\n"
        "onsuccess:\n    bayesprune.onsuccess()\n"
    )


@pytest.mark.parametrize("prefix", ["bp_", ""])
def test_loads_as_a_module_of_another_workflow(tmp_path, prefix):
    _host_workflow(tmp_path, prefix)
    out = _dry_run(tmp_path)
    # every job of the tiny run, under the host's rule names
    for rule, count in (("sample", 2), ("prune", 4), ("resample", 4), ("bf_train", 6)):
        assert f"{prefix}{rule} " in out and f"\n{prefix}{rule}" in out, rule
        line = next(x for x in out.splitlines() if x.split()[:1] == [f"{prefix}{rule}"])
        assert line.split()[1] == str(count), line
    assert f"{prefix}all " in out
    assert not (tmp_path / "results").exists()


def test_dry_run_from_another_working_directory(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _dry_run(
        elsewhere,
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(tmp_path / "run"),
        *tiny_args(),
    )
    assert "table_pruning" in out and "provenance" in out


def test_module_jobs_and_hooks_run_in_the_host_folder(tmp_path):
    _host_workflow(tmp_path, "bp_")
    empty = tmp_path / "results/checkpoints/iris/rep0"
    empty.mkdir(parents=True)
    target = "data/processed/diabetes/rep0.npz"  # scikit-learn's copy: nothing to download
    result = subprocess.run(
        [*SNAKEMAKE, "--cores", "1", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert (tmp_path / target).is_file()
    assert (tmp_path / "results/logs/prepare/diabetes/rep0.log").is_file()
    # the workflow's success hook dropped the empty checkpoint folders
    assert not (tmp_path / "results/checkpoints").exists()
