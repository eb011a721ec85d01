"""One method-A stage: the pruned posterior's own log densities, and a checkpoint's target identity."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from bayesprune.likelihoods import PriorSettings, build_posterior
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.networks import MLPSpec
from bayesprune.posterior import pooled_draws
from bayesprune.sampling import sample_network
from bayesprune.stages import assess_stage, masked_posterior

PRIOR = PriorSettings(sigma2=25.0, nu1=2.0, nu2=0.1)
SETTINGS = SamplerSettings.from_params(
    {
        "samples": 120,
        "burn_in": 0.5,
        "thin": 1,
        "chains": 2,
        "step_size": 0.02,
        "langevin_step": None,
        "noise_step": 0.2,
        "langevin_prob": 0.5,
        "init": "prior",
        "init_jitter": 0.01,
        "checkpoint_every": 0,
        "dtype": "float64",
    }
)


def _data(task: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    y = (
        X[:, 0] * 0.5 + rng.normal(scale=0.1, size=40)
        if task == "regression"
        else (X[:, 0] > 0).astype(int)
    )
    return X, y


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_masked_posterior_has_the_masked_networks_log_densities(task):
    spec = MLPSpec((3, 4, 1 if task == "regression" else 2))
    X, y = _data(task)
    idata = sample_network(spec, task, X, y, prior=PRIOR, settings=SETTINGS, seed=1)
    pruned = np.array([0, 5, 13])
    masked = masked_posterior(idata, spec, task, X, y, PRIOR, pruned)
    theta = pooled_draws(masked, "theta")
    assert (theta[:, pruned] == 0).all()
    # direct: the masked model at every masked draw
    post = build_posterior(spec, X, y, task, prior=PRIOR, mask=pruned)
    positions = theta
    if task == "regression":
        positions = np.hstack([theta, np.log(pooled_draws(idata, "tau2"))[:, None]])
    direct = post(positions)
    np.testing.assert_allclose(masked.sample_stats["lp"].values.reshape(-1), direct.logdensity)
    np.testing.assert_allclose(masked.sample_stats["loglik"].values.reshape(-1), direct.loglik)
    # and they differ from the full chains' values
    assert not np.allclose(masked.sample_stats["lp"].values, idata.sample_stats["lp"].values)
    split = {"X_train": X, "y_train": y, "X_test": X[:10], "y_test": y[:10]}
    meta = {
        "task": task,
        "target_scaler": {"kind": "none", "center": [0.0], "scale": [1.0]},
        "n_outputs": spec.sizes[-1],
    }
    stage = assess_stage(masked, spec, split, meta, pruned=pruned, n_function_points=5)
    assert stage.diagnostics["acceptance"] is None
    assert stage.metrics["size"]["n_kept"] == spec.n_params - len(pruned)


def test_a_checkpoint_of_another_target_is_not_resumed(tmp_path):
    spec = MLPSpec((3, 4, 1))
    X, y = _data("regression")
    settings = replace(SETTINGS, checkpoint_every=20)
    ck = tmp_path / "ck.pt"

    class Killed(Exception):
        pass

    def killer(progress):
        if progress.iteration >= 60:
            raise Killed

    from bayesprune.mcmc import runner

    original = runner.run_chains

    def run_until_killed(*args, **kwargs):
        return original(*args, **{**kwargs, "progress": killer, "progress_every_s": 0.0})

    def killed_run(prior):
        """A run of ``prior`` killed after its first checkpoint."""
        runner.run_chains = run_until_killed
        try:
            with pytest.raises(Killed):
                sample_network(
                    spec, "regression", X, y, prior=prior, settings=settings, seed=3, checkpoint=ck
                )
        finally:
            runner.run_chains = original

    killed_run(PRIOR)
    assert ck.exists()
    # Same run: resumes and equals an uninterrupted run.
    resumed = sample_network(
        spec, "regression", X, y, prior=PRIOR, settings=settings, seed=3, checkpoint=ck
    )
    fresh = sample_network(spec, "regression", X, y, prior=PRIOR, settings=settings, seed=3)
    np.testing.assert_array_equal(pooled_draws(resumed, "theta"), pooled_draws(fresh, "theta"))
    # Another prior (same start, kernel, seed): the old checkpoint must not be resumed.
    ck.unlink()
    killed_run(PRIOR)
    other = replace(PRIOR, sigma2=1.0)
    after = sample_network(
        spec, "regression", X, y, prior=other, settings=settings, seed=3, checkpoint=ck
    )
    clean = sample_network(spec, "regression", X, y, prior=other, settings=settings, seed=3)
    np.testing.assert_array_equal(pooled_draws(after, "theta"), pooled_draws(clean, "theta"))


def test_small_sampling_jobs_never_import_torch():
    """Importing torch costs about 2 s per job; small runs keep the sampler in numpy."""
    code = f"""
import sys
import subprocess
import sys

import numpy as np
from bayesprune.likelihoods import PriorSettings
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.networks import MLPSpec
from bayesprune.sampling import sample_network
from bayesprune.stages import assess_stage
rng = np.random.default_rng(0)
X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
spec = MLPSpec((3, 4, 1))
idata = sample_network(spec, "regression", X, y, prior={PRIOR!r}, settings={SETTINGS!r}, seed=1)
arrays = dict(X_train=X, y_train=y, X_test=X, y_test=y)
meta = dict(task="regression", n_outputs=1,
            target_scaler=dict(kind="none", center=[0.0], scale=[1.0]))
assess_stage(idata, spec, arrays, meta, seed=1, n_function_points=4)
assert "torch" not in sys.modules, "torch was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
