"""MCMC progress lines (settings at start, phase, percent, speed, ETA) and checkpoint cleanup."""

from __future__ import annotations

import logging
import math
import re

import numpy as np

from bayesprune.likelihoods import PriorSettings, build_posterior
from bayesprune.mcmc import kernel as mh
from bayesprune.mcmc import runner, streams
from bayesprune.networks import MLPSpec
from bayesprune.progress import (
    eta_seconds,
    format_duration,
    phase,
    progress_line,
    remove_empty_dirs,
)


def test_phase_percent_and_eta():
    assert phase(0, 100, 400) == "burn-in" and phase(99, 100, 400) == "burn-in"
    assert phase(100, 100, 400) == "sampling" and phase(400, 100, 400) == "done"
    # 300 iterations left, 4 chains at 1,200 chain-it/s -> 1 s
    assert eta_seconds(100, 400, 1200.0, 4) == 1.0
    assert eta_seconds(400, 400, 0.0, 4) == 0.0 and math.isinf(eta_seconds(1, 400, 0.0, 4))
    line = progress_line(250, 1000, 500, 8000.0, 4, 3.0)
    assert line.startswith("burn-in   25.0%  iteration 250/1000  8,000 chain-it/s")
    assert line.endswith("elapsed 3.0 s  ETA 0.4 s")
    assert format_duration(185) == "3 min 05 s" and format_duration(7620) == "2 h 07 min"
    assert format_duration(math.inf) == "?"


def test_run_chains_logs_settings_phases_and_eta(caplog):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    spec = MLPSpec(sizes=(2, 3, 2))
    post = build_posterior(spec, X, y, "classification", prior=PriorSettings(sigma2=1.0))
    params = mh.kernel_params_for(post, 0.05)
    x0 = streams.initial_positions(post, 2, 0, init="prior")
    with caplog.at_level(logging.INFO, logger="mcmc-test"):
        runner.run_chains(
            post,
            x0,
            params,
            40,
            burn_in=0.5,
            thin=2,
            seed=1,
            progress_every_s=0.0,
            logger=logging.getLogger("mcmc-test"),
        )
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("MCMC start: chains=2 dim=17 iterations=40 burn_in=20 thin=2")
    assert "kept_per_chain=10" in lines[0] and "seed=1" in lines[0]
    assert "step_size=0.05" in lines[0]
    reports = lines[1:]
    assert len(reports) == 41  # every iteration (progress_every_s=0) and the final report
    pattern = re.compile(
        r"^(burn-in|sampling|done)\s+\d+\.\d%  iteration (\d+)/40  [\d,]+ chain-it/s  "
        r"elapsed .+  ETA .+  acceptance \[.+\]  diverging \d+$"
    )
    phases = []
    for line in reports:
        match = pattern.match(line)
        assert match, line
        phases.append(match.group(1))
    assert phases[0] == "burn-in" and "sampling" in phases and phases[-1] == "done"
    assert reports[-1].split()[1] == "100.0%" and reports[-1].endswith("diverging 0")
    assert "ETA 0.0 s" in reports[-1]


def test_remove_empty_dirs_keeps_folders_with_files(tmp_path):
    root = tmp_path / "checkpoints"
    (root / "iris" / "rep0").mkdir(parents=True)
    (root / "wine" / "rep0").mkdir(parents=True)
    (root / "wine" / "rep0" / "full.pt").write_bytes(b"x")
    removed = remove_empty_dirs(root)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in removed) == [
        "checkpoints/iris",
        "checkpoints/iris/rep0",
    ]
    assert (root / "wine" / "rep0" / "full.pt").exists()
    (root / "wine" / "rep0" / "full.pt").unlink()
    remove_empty_dirs(root)
    assert not root.exists()
    assert remove_empty_dirs(tmp_path / "missing") == []
