"""InferenceData build / NetCDF round trip / draws access."""

from __future__ import annotations

import json

import numpy as np
import torch

from bayesprune import posterior as pst
from bayesprune.arviz_setup import az
from bayesprune.likelihoods import MLPPosterior, PriorSettings
from bayesprune.mcmc import kernel as mh
from bayesprune.mcmc import runner, streams, trace
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.networks import MLPSpec
from bayesprune.sampling import sample_network

torch.set_num_threads(1)


def _run(task: str, mask: list[int] | None = None) -> tuple[trace.ChainResult, MLPSpec]:
    rng = np.random.default_rng(1)
    if task == "regression":
        spec = MLPSpec((3, 4, 1))
        y = rng.normal(size=30)
    else:
        spec = MLPSpec((3, 4, 3))
        y = rng.integers(0, 3, 30)
    post = MLPPosterior(spec, rng.normal(size=(30, 3)), y, task, mask=mask)
    x0 = streams.initial_positions(post, 3, seed=2)
    params = mh.kernel_params_for(post, 0.02, 0.1)
    return runner.run_chains(post, x0, params, 60, burn_in=0.5, thin=2, seed=3), spec


def test_netcdf_round_trip_regression(tmp_path) -> None:
    res, spec = _run("regression", mask=[1, 5])
    idata = pst.build_inference_data(
        res,
        spec,
        "regression",
        mask=[5, 1],
        config_digest="abc",
        extra_attrs={"stage": "full", "x": [1]},
    )
    path = tmp_path / "sub" / "posterior.nc"
    pst.save_posterior(path, idata)
    assert path.exists() and not list(path.parent.glob(".*tmp"))
    back = pst.load_posterior(path)
    theta = pst.draws_by_chain(back)
    np.testing.assert_array_equal(theta, res.theta)
    assert theta.shape == (3, 15, spec.n_params)
    assert pst.pooled_draws(back).shape == (45, spec.n_params)
    np.testing.assert_array_equal(pst.pooled_draws(back)[15], res.theta[1, 0])
    np.testing.assert_array_equal(back.posterior["tau2"].values, res.tau2)
    assert list(back.posterior["param"].values) == spec.param_names()
    for name, ref in (("lp", res.logdensity), ("loglik", res.loglik), ("accepted", res.accepted),
                      ("kernel", res.kernel), ("diverging", res.diverging)):  # fmt: skip
        np.testing.assert_array_equal(back.sample_stats[name].values, ref)
    assert back.sample_stats["accepted"].dtype == bool
    attrs = back.posterior.attrs
    assert attrs["seed"] == 3 and attrs["config_digest"] == "abc" and attrs["task"] == "regression"
    assert attrs["burn_in"] == 30 and attrs["thin"] == 2 and attrs["stage"] == "full"
    assert json.loads(attrs["mask"]) == [1, 5]
    assert "numpy" in json.loads(attrs["versions"])
    assert pst.network_of(back) == spec
    np.testing.assert_array_equal(pst.mask_of(back), [1, 5])
    np.testing.assert_allclose(pst.acceptance_rate_of(back), res.acceptance_rate)


def test_every_numeric_variable_is_written_shuffled_and_deflated_and_reads_back_exactly(
    tmp_path,
) -> None:
    """The file keeps ArviZ's layout and the values exactly; the filters are the package's
    (byte shuffle + deflate 1), also when the data were read from a file with other ones."""
    import h5py

    res, spec = _run("regression")
    rng = np.random.default_rng(4)
    split = {"X_train": rng.normal(size=(30, 3)), "y_train": rng.normal(size=30),
             "X_test": rng.normal(size=(7, 3)), "y_test": rng.normal(size=7)}  # fmt: skip
    idata = pst.with_observations(
        pst.build_inference_data(res, spec, "regression"), spec, "regression", split, seed=5
    )
    first = tmp_path / "first.nc"
    idata.to_netcdf(str(first), engine="h5netcdf")  # ArviZ's own writer: deflate 4, no shuffle
    again = tmp_path / "again.nc"
    pst.save_posterior(again, pst.load_posterior(first))

    filters = {}
    with h5py.File(again) as f:
        assert set(f) == set(idata.groups())
        f.visititems(
            lambda name, obj: (
                filters.__setitem__(
                    name, (obj.compression, obj.compression_opts, obj.shuffle)
                )  # fmt: skip
                if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "biuf"
                else None
            )
        )
    assert "log_likelihood/y" in filters and "posterior/theta" in filters
    assert set(filters.values()) == {("gzip", 1, True)}
    back = az.from_netcdf(str(again))
    for group in idata.groups():
        assert getattr(back, group).identical(getattr(idata, group)), group


def test_arviz_is_on_its_numpy_code_and_numba_is_importable_after_it() -> None:
    import sys

    import numba

    assert az.Numba.numba_flag is False
    assert sys.modules["numba"] is numba and numba.njit(lambda x: x + 1)(1) == 2


def test_classification_has_no_tau2(tmp_path) -> None:
    res, spec = _run("classification")
    idata = pst.build_inference_data(res, spec, "classification")
    pst.save_posterior(tmp_path / "p.nc", idata)
    back = pst.load_posterior(tmp_path / "p.nc")
    assert "tau2" not in back.posterior
    assert json.loads(back.posterior.attrs["mask"]) == []


def _settings(**over: object) -> dict:
    base = {
        "samples": 4,
        "burn_in": 0,
        "thin": 1,
        "chains": 3,
        "step_size": 1e-6,
        "langevin_step": None,
        "noise_step": 1e-6,
        "langevin_prob": 0.0,
        "init": "prior",
        "init_jitter": 0.01,
        "checkpoint_every": 0,
        "dtype": "float64",
        "adapt": False,
    }
    return SamplerSettings.from_params(base | over)


def test_prior_init_starts_each_chains_eta_at_its_own_residual_variance() -> None:
    rng = np.random.default_rng(4)
    spec = MLPSpec((2, 3, 1))
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    idata = sample_network(
        spec,
        "regression",
        X,
        y,
        prior=PriorSettings(),
        settings=_settings(),
        seed=5,
        tau2_start=123.0,
    )
    tau2 = idata.posterior["tau2"].values[:, 0]
    theta = idata.posterior["theta"].values[:, 0]
    post = MLPPosterior(spec, X, y, "regression")
    own = post.residual_tau2(theta)  # steps of 1e-6: the first draw is the start
    np.testing.assert_allclose(tau2, own, rtol=1e-4)
    assert len(set(np.round(tau2, 6))) == 3 and np.all(np.abs(tau2 - 123.0) > 1.0)


def test_explicit_per_chain_starts_and_masks() -> None:
    rng = np.random.default_rng(6)
    spec = MLPSpec((2, 3, 1))
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    starts = rng.normal(size=(2, spec.n_params))
    masks = np.zeros((2, spec.n_params), dtype=bool)
    masks[0, [0, 3]] = True
    masks[1, [1]] = True
    idata = sample_network(
        spec,
        "regression",
        X,
        y,
        prior=PriorSettings(),
        settings=_settings(init="map"),
        seed=5,
        theta_start=starts,
        tau2_start=np.array([0.5, 2.0]),
        mask=masks,
    )
    theta = idata.posterior["theta"].values
    expected = np.where(masks, 0.0, starts)
    np.testing.assert_allclose(theta[:, 0], expected, atol=1e-4)
    np.testing.assert_allclose(idata.posterior["tau2"].values[:, 0], [0.5, 2.0], rtol=1e-4)
    assert json.loads(idata.posterior.attrs["chain_masks"]) == [[0, 3], [1]]


def test_a_diagonal_metric_is_saved_with_the_posterior() -> None:
    rng = np.random.default_rng(8)
    spec = MLPSpec((2, 3, 1))
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    kw = {"prior": PriorSettings(), "seed": 5, "tau2_start": 1.0}
    diag = sample_network(
        spec,
        "regression",
        X,
        y,
        settings=_settings(adapt=True, metric="diagonal", samples=200, burn_in=0.5),
        **kw,
    )
    plain = sample_network(
        spec, "regression", X, y, settings=_settings(adapt=True, samples=200, burn_in=0.5), **kw
    )
    variance = np.asarray(json.loads(diag.posterior.attrs["metric_variance"]))
    assert variance.shape == (3, spec.n_params + 1)  # every chain: theta and eta
    assert np.all(variance > 0) and "metric_variance" not in plain.posterior.attrs
