"""The Slurm profile on a real one-node Slurm cluster (tests/slurm/cluster.sh).

Marked `slurm`: needs root and apt (Debian's munge + Slurm 22.05 are installed if missing),
starts munged/slurmctld/slurmd on 127.0.0.1 for the session and always stops them again.
Skipped when not root, when Slurm is missing and cannot be installed, or with
BAYESPRUNE_SKIP_SLURM=1.

    .venv/bin/pytest -m slurm tests/test_slurm.py

The jobs run through the profile derived from profiles/slurm/config.yaml
(tests/slurm/make_profile.py), so the keys users get are the keys tested here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"
SHARED = ROOT.parent / "shared" / "datasets"
TINY = ROOT / "tests" / "configs" / "tiny.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
DAEMONS = ("munged", "slurmctld", "slurmd", "slurmstepd")

sys.path.insert(0, str(ROOT / "tests" / "slurm"))
import make_profile  # noqa: E402

sys.path.pop(0)


# ----------------------------------------------------------------------------- no cluster


def test_test_profile_is_derived_from_the_user_profile():
    """tests/slurm/profile/config.yaml is make_profile.py's output for the current files."""
    committed = make_profile.TEST_PROFILE.read_text()
    assert committed == make_profile.render(), (
        "tests/slurm/profile/config.yaml is stale: run .venv/bin/python tests/slurm/make_profile.py"
    )


def test_user_profile_has_the_documented_keys():
    prof = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert prof["executor"] == "slurm"
    for key in ("jobs", "latency-wait", "retries", "printshellcmds", "show-failed-logs"):
        assert key in prof, key
    assert prof["rerun-incomplete"] is True
    assert prof["retries"] >= 1
    res = prof["default-resources"]
    for key in ("slurm_partition", "slurm_account", "runtime", "mem_mb", "cpus_per_task"):
        assert key in res, key
    for rule in ("train_unpruned", "sample", "resample", "bf_train"):
        assert rule in prof["set-resources"], rule


# ----------------------------------------------------------------------------- cluster


def _skip_reason() -> str | None:
    if os.environ.get("BAYESPRUNE_SKIP_SLURM") == "1":
        return "BAYESPRUNE_SKIP_SLURM=1"
    if not sys.platform.startswith("linux"):
        return "the Slurm test cluster needs Linux"
    if os.geteuid() != 0:
        return "the Slurm test cluster needs root (it installs and starts munged/slurmctld/slurmd)"
    if shutil.which("sbatch") is None and shutil.which("apt-get") is None:
        return "Slurm (sbatch) is not installed and apt-get is not available to install it"
    return None


def _daemons_running() -> list[str]:
    out = []
    for name in DAEMONS:
        r = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
        out += [f"{name}:{pid}" for pid in r.stdout.split()]
    return out


@pytest.fixture(scope="session")
def slurm_cluster():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Every xdist worker would start and stop the one shared cluster under the others.
        pytest.skip("run the Slurm tests without pytest -n: they share one cluster")
    had_slurm = shutil.which("sbatch") is not None
    t0 = time.monotonic()
    try:
        start = subprocess.run(
            ["bash", str(CLUSTER), "start"], capture_output=True, text=True, timeout=900
        )
        if start.returncode != 0:
            detail = (start.stdout + start.stderr)[-3000:]
            if not had_slurm and shutil.which("sbatch") is None:
                pytest.skip(f"Slurm is not installed and could not be installed:\n{detail}")
            pytest.fail(f"cluster.sh start failed:\n{detail}")
        print(f"\n[slurm] cluster up in {time.monotonic() - t0:.1f} s\n{start.stderr}")
        yield
    finally:
        stop = subprocess.run(
            ["bash", str(CLUSTER), "stop"], capture_output=True, text=True, timeout=120
        )
        left = _daemons_running()
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert not left, f"Slurm/munge processes left running after cluster.sh stop: {left}"


@pytest.fixture(scope="session")
def profile(tmp_path_factory) -> Path:
    """The test profile, freshly derived from the user profile (cannot be stale)."""
    d = tmp_path_factory.mktemp("slurm-profile")
    (d / "config.yaml").write_text(make_profile.render())
    return d


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", **extra}


def run_snakemake(workdir: Path, profile: Path, *args: str, timeout: int = 240, env=None):
    """snakemake --profile <test profile> in workdir, killed by `timeout` if it hangs."""
    cmd = ["timeout", "-k", "10", str(timeout), *SNAKEMAKE, "--profile", str(profile), *args]
    r = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env or _env())
    assert r.returncode != 124, f"snakemake timed out after {timeout} s:\n{r.stderr[-6000:]}"
    return r


def slurm_jobs(comment_prefix: str) -> list[tuple[str, str]]:
    """(jobid, state) of every job squeue still knows (MinJobAge=300) for a rule."""
    r = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i %T %k"], capture_output=True, text=True, check=True
    )
    rows = [line.split() for line in r.stdout.splitlines() if line.strip()]
    return [(i, s) for i, s, k in rows if k.startswith(comment_prefix)]


def _real_targets() -> tuple[list[str], list[str]] | None:
    """A small slice of the real workflow under the tiny config: one unpruned network of
    method A and one run of method B, from datasets that need no download. None if the
    workflow or the tiny config is not there (then test (a) runs a toy workflow)."""
    if not (ROOT / "Snakefile").exists() or not TINY.exists():
        return None
    cfg = yaml.safe_load(TINY.read_text())
    offline = [
        name
        for name, ds in cfg.get("datasets", {}).items()
        if ds.get("source", {}).get("kind") in ("sklearn", "local")
    ]
    a = [d for d in cfg.get("method_a", {}).get("datasets", []) if d in offline]
    b = [d for d in cfg.get("method_b", {}).get("datasets", []) if d in offline]
    b_methods = cfg.get("method_b", {}).get("methods", [])
    if not a or not b or not b_methods:
        return None
    targets = [
        f"results/method_a/{a[0]}/rep0/unpruned/metrics.json",
        f"results/method_b/{b[0]}/rep0/{b_methods[0]}/final.json",
    ]
    expected = targets + [
        f"results/method_a/{a[0]}/rep0/unpruned/model.npz",
        f"data/processed/{a[0]}/rep0.npz",
        f"data/processed/{b[0]}/rep0.npz",
    ]
    return targets, expected


TOY_PIPELINE = """
rule all:
    input: expand("out/b{i}.txt", i=range(2))

rule a:
    output: "out/a{i}.txt"
    shell: "python -c 'import sys, time; time.sleep(2); open(sys.argv[1], \\"w\\").write(\\"a\\")' {output}"

rule b:
    input: "out/a{i}.txt"
    output: "out/b{i}.txt"
    shell: "cat {input} > {output}; echo $SLURM_JOB_ID >> {output}"
"""


@pytest.mark.slurm
def test_workflow_runs_through_slurm(slurm_cluster, profile, tmp_path):
    """(a) Every job goes through sbatch and every output appears."""
    real = _real_targets()
    if real is not None:
        targets, expected = real
        # Targets first: --config/--configfile take several values. No workflow profile:
        # test the Slurm profile alone (profiles/default would otherwise be merged in).
        args = [*targets, "--snakefile", str(ROOT / "Snakefile"), "--workflow-profile", "none"]
        args += ["--configfile", str(TINY)]
        if SHARED.is_dir():
            args += ["--config", f"mirror={SHARED}"]
        rules = ("prepare", "train_unpruned", "bf_train")
    else:
        (tmp_path / "Snakefile").write_text(TOY_PIPELINE)
        args, expected, rules = [], [f"out/b{i}.txt" for i in range(2)], ("a", "b")
    t0 = time.monotonic()
    r = run_snakemake(tmp_path, profile, *args, timeout=300)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr[-8000:]
    missing = [f for f in expected if not (tmp_path / f).is_file()]
    assert not missing, f"missing outputs {missing}\n{r.stderr[-4000:]}"
    # Each rule ran as a Slurm job (its log is kept: slurm-keep-successful-logs in the
    # test profile) and Slurm recorded it as COMPLETED.
    for rule in rules:
        logs = list((tmp_path / ".snakemake" / "slurm_logs").glob(f"rule_{rule}/**/*.log"))
        assert logs, f"no Slurm log for rule {rule}"
        states = {s for _, s in slurm_jobs(f"rule_{rule}")}
        assert "COMPLETED" in states, (rule, states)
    assert "has been submitted with SLURM jobid" in r.stderr
    print(f"[slurm] workflow ({'real' if real else 'toy'}) took {took:.0f} s")


FAILING = """
rule all:
    input: "out/ok.txt", "out/fail.txt"

rule ok:
    output: "out/ok.txt"
    shell: "echo ok > {output}"

rule fail:
    output: "out/fail.txt"
    # Counts its attempts in a file that is not an output (outputs are deleted on failure).
    shell: "echo attempt >> attempts_of_fail.txt; exit 3"
"""


@pytest.mark.slurm
def test_failing_job_is_failed_in_slurm_retried_and_reported(slurm_cluster, profile, tmp_path):
    """(b) A job that exits non-zero is FAILED in Slurm, retried `retries` times, and
    snakemake exits non-zero; independent jobs still finish (keep-going)."""
    (tmp_path / "Snakefile").write_text(FAILING)
    retries = yaml.safe_load((profile / "config.yaml").read_text())["retries"]
    r = run_snakemake(tmp_path, profile, timeout=300)
    assert r.returncode != 0
    attempts = (tmp_path / "attempts_of_fail.txt").read_text().split()
    assert len(attempts) == retries + 1, r.stderr[-4000:]
    states = [s for _, s in slurm_jobs("rule_fail")]
    assert states == ["FAILED"] * (retries + 1), states
    assert "SLURM status is: 'FAILED'" in r.stderr
    assert (tmp_path / "out" / "ok.txt").is_file()
    assert not (tmp_path / "out" / "fail.txt").exists()
    # the failed job's Slurm log is kept for the user
    assert list((tmp_path / ".snakemake" / "slurm_logs").glob("rule_fail/**/*.log"))


INTERRUPTED = """
rule all:
    input: "out/slow.txt", "out/fast.txt"

rule fast:
    output: "out/fast.txt"
    shell: "echo fast > {output}"

rule slow:
    output: "out/slow.txt"
    # Long only in the first run (SLOW_SECONDS reaches the job through sbatch --export=ALL).
    shell: "echo partial > {output}; sleep ${{SLOW_SECONDS:-1}}; echo done >> {output}"
"""


def _wait_for(cond, timeout: float, what: str, proc=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.5)
    detail = log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


@pytest.mark.slurm
def test_killed_run_resumes_without_redoing_finished_jobs(slurm_cluster, profile, tmp_path):
    """(c) The run dies mid-job the way a wall-time kill does (the snakemake process is
    killed, its running Slurm job cancelled); the same command again (after --unlock)
    finishes only what is missing and leaves the finished outputs alone."""
    (tmp_path / "Snakefile").write_text(INTERRUPTED)
    log1 = tmp_path / "run1.log"
    cmd = [*SNAKEMAKE, "--profile", str(profile)]
    with open(log1, "w") as fh:
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, stdout=fh, stderr=subprocess.STDOUT, env=_env(SLOW_SECONDS="300")
        )
    try:
        # fast has finished (as far as snakemake knows) and slow is running in Slurm
        _wait_for(
            lambda: "(Rule: fast)" in log1.read_text() and (tmp_path / "out" / "slow.txt").exists(),
            120,
            "fast to finish and slow to start",
            proc,
            log1,
        )
        m = re.search(r"rule_slow/(?:[^/\s]*/)?(\d+)\.log", log1.read_text())
        assert m, log1.read_text()[-3000:]
        slow_job = m.group(1)
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean shutdown: lock and job are left behind
        proc.wait(timeout=30)
    subprocess.run(["scancel", slow_job], check=True)
    _wait_for(
        lambda: all(
            s not in ("PENDING", "RUNNING", "COMPLETING")
            for j, s in slurm_jobs("rule_slow")
            if j == slow_job
        ),
        60,
        f"Slurm job {slow_job} to end",
    )
    assert dict(slurm_jobs("rule_slow"))[slow_job] == "CANCELLED"
    fast = tmp_path / "out" / "fast.txt"
    fast_mtime = fast.stat().st_mtime_ns
    slow = tmp_path / "out" / "slow.txt"
    assert not slow.exists() or slow.read_text().split() == ["partial"]

    # The killed snakemake left its lock; --unlock, then the same command.
    unlock = run_snakemake(tmp_path, profile, "--unlock", timeout=60)
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    r = run_snakemake(tmp_path, profile, timeout=240)
    assert r.returncode == 0, r.stderr[-8000:]
    assert slow.read_text().split() == ["partial", "done"]
    assert fast.stat().st_mtime_ns == fast_mtime, "finished output was redone"
    stats = r.stderr[r.stderr.index("Job stats:") :].split("\n\n")[0]
    assert re.search(r"^slow\s+1$", stats, re.M), stats
    assert not re.search(r"^fast\s", stats, re.M), stats
    # and nothing is left to do
    dry = run_snakemake(tmp_path, profile, "--dry-run", timeout=60)
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
