"""ArviZ-native stage files (log likelihood, predictive, observed data) and LOO comparison."""

from __future__ import annotations

import arviz as az
import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from bayesprune import posterior as pst  # noqa: E402
from bayesprune.figures.loo import loo_figure  # noqa: E402
from bayesprune.likelihoods import PriorSettings, build_posterior  # noqa: E402
from bayesprune.mcmc import kernel as mh  # noqa: E402
from bayesprune.mcmc import runner, streams  # noqa: E402
from bayesprune.model_comparison import (  # noqa: E402
    LOO_COLUMNS,
    SCORE_GROUPS,
    compare_stages,
    heldout_lpd,
    score_runs,
    score_table,
    stage_scores,
    table_markdown,
)
from bayesprune.networks import MLPSpec  # noqa: E402


def _problem(task: str, n_train: int = 40, n_test: int = 25, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_train + n_test, 3))
    if task == "regression":
        spec = MLPSpec((3, 4, 1))
        y = np.tanh(X[:, 0]) + 0.3 * rng.normal(size=len(X))
    else:
        spec = MLPSpec((3, 4, 3))
        y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    split = {
        "X_train": X[:n_train],
        "y_train": y[:n_train],
        "X_test": X[n_train:],
        "y_test": y[n_train:],
    }
    return spec, split


def _idata(task: str, mask: list[int] | None = None, seed: int = 3):
    spec, split = _problem(task)
    post = build_posterior(
        spec,
        split["X_train"],
        split["y_train"],
        task,
        prior=PriorSettings(4.0, 2.0, 0.1),
        mask=np.asarray(mask or [], dtype=np.int64),
    )
    x0 = streams.initial_positions(post, 2, seed=2, init="prior")
    params = mh.kernel_params_for(post, 0.02, noise_step=0.1)
    res = runner.run_chains(post, x0, params, 400, burn_in=0.5, thin=2, seed=seed)
    idata = pst.build_inference_data(res, spec, task, mask=mask)
    return pst.with_observations(idata, spec, task, split, seed=5), spec, split


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_pointwise_log_likelihood_sums_to_the_samplers(task):
    # the training set's pointwise terms add up to the log likelihood the MCMC target used
    idata, _, split = _idata(task, mask=[0, 7])
    ll = idata.log_likelihood["y"]
    assert ll.dims == ("chain", "draw", "obs") and ll.dtype == np.float32
    assert ll.sizes["obs"] == len(split["y_train"])
    total = ll.sum("obs").values.astype(np.float64)
    np.testing.assert_allclose(total, idata.sample_stats["loglik"].values, rtol=1e-5, atol=1e-3)
    test = idata["log_likelihood_test"]["y"]
    assert test.dims == ("chain", "draw", "test_obs")
    assert test.sizes["test_obs"] == len(split["y_test"])
    assert np.array_equal(idata.observed_data["y"].values, split["y_train"].astype(np.float32))


def test_regression_replicates_follow_the_noise_model():
    idata, spec, split = _idata("regression")
    theta = pst.pooled_draws(idata, "theta")
    tau2 = pst.pooled_draws(idata, "tau2")
    from bayesprune.networks import forward_numpy

    f = forward_numpy(spec, theta, split["X_train"])[..., 0]
    reps = idata.posterior_predictive["y"].values.reshape(f.shape)
    z = (reps - f) / np.sqrt(tau2)[:, None]
    # standard normal residuals: mean 0 (SE 1/sqrt(n)), variance 1 (SE sqrt(2/n))
    n = z.size
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 4 * np.sqrt(2 / n)


def test_classification_replicates_follow_softmax():
    idata, spec, split = _idata("classification")
    from scipy.special import softmax

    from bayesprune.networks import forward_numpy

    theta = pst.pooled_draws(idata, "theta")
    probs = softmax(forward_numpy(spec, theta, split["X_train"]), axis=-1)  # (S, N, C)
    reps = idata.posterior_predictive["y"].values.reshape(-1, probs.shape[1])
    for c in range(probs.shape[-1]):
        expected = probs[..., c].mean()
        se = np.sqrt(expected * (1 - expected) / reps.size) + 1e-9
        # draws are independent given the probabilities: a binomial count per class
        assert abs((reps == c).mean() - expected) < 4 * se * 3  # x3: correlated inputs


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_arviz_functions_work_on_the_saved_file(task, tmp_path):
    full, _, _ = _idata(task)
    pruned, _, _ = _idata(task, mask=[1, 2, 3, 9], seed=4)
    pst.save_posterior(tmp_path / "full.nc", full)
    pst.save_posterior(tmp_path / "pruned.nc", pruned)
    loaded = {k: pst.load_posterior(tmp_path / f"{k}.nc") for k in ("full", "pruned")}
    for idata in loaded.values():
        assert {"posterior", "sample_stats", "log_likelihood", "posterior_predictive"} <= set(
            idata.groups()
        )
        assert {"observed_data", "log_likelihood_test"} <= set(idata.groups())
        loo = az.loo(idata)
        waic = az.waic(idata)
        assert np.isfinite(loo.elpd_loo) and np.isfinite(waic.elpd_waic)
        # in-sample lppd >= LOO estimate (p_loo >= 0 up to Monte Carlo noise)
        assert loo.p_loo > -1.0
    table = compare_stages(loaded)
    assert set(table.index) == {"full", "pruned"} and np.isclose(table["weight"].sum(), 1.0)
    axes = az.plot_ppc(loaded["full"], num_pp_samples=20, random_seed=0)
    assert np.size(axes) == 1
    matplotlib.pyplot.close("all")


def test_scores_from_the_score_groups_and_a_reused_loo_match_the_full_file(tmp_path):
    """The loo job reads only SCORE_GROUPS and computes each run's LOO once, for the table
    and for az.compare: both give exactly the numbers of the whole file scored afresh."""
    stages = {"full": _idata("regression")[0], "pruned": _idata("regression", [1, 2], 4)[0]}
    whole, part = {}, {}
    for name, idata in stages.items():
        pst.save_posterior(tmp_path / f"{name}.nc", idata)
        whole[name] = pst.load_posterior(tmp_path / f"{name}.nc")
        part[name] = pst.load_posterior(tmp_path / f"{name}.nc", SCORE_GROUPS)
        assert set(part[name].groups()) == set(SCORE_GROUPS)
        assert "posterior_predictive" in whole[name].groups()
    runs = [({"stage": k}, v) for k, v in whole.items()]
    table, loos = score_runs([({"stage": k}, v) for k, v in part.items()])
    pd.testing.assert_frame_equal(score_table(runs), table)
    pd.testing.assert_frame_equal(
        compare_stages(whole), compare_stages(dict(zip(part, loos, strict=True)))
    )


def test_scores_and_test_lpd():
    idata, _, split = _idata("classification")
    scores = stage_scores(idata)
    assert list(scores) == LOO_COLUMNS
    assert scores["n_train"] == len(split["y_train"]) and scores["n_test"] == len(split["y_test"])
    assert scores["k_good"] + scores["k_bad"] + scores["k_very_bad"] == scores["n_train"]
    ll = idata["log_likelihood_test"]["y"].values.reshape(-1, scores["n_test"]).astype(float)
    manual = np.log(np.exp(ll).mean(axis=0)).sum()
    assert np.isclose(heldout_lpd(idata)[0], manual, rtol=1e-6)
    assert np.isclose(scores["lpd_test"], manual, rtol=1e-6)
    # LOO and WAIC estimate the same quantity: they agree well within one SE here
    assert abs(scores["elpd_loo"] - scores["elpd_waic"]) < scores["se"]


def test_old_file_without_log_likelihood_names_the_fix():
    spec, split = _problem("classification")
    post = build_posterior(spec, split["X_train"], split["y_train"], "classification")
    x0 = streams.initial_positions(post, 2, seed=2, init="prior")
    res = runner.run_chains(post, x0, mh.kernel_params_for(post, 0.02), 20, seed=1)
    bare = pst.build_inference_data(res, spec, "classification")
    with pytest.raises(ValueError, match="no log_likelihood group.*--forcerun"):
        stage_scores(bare)


def _table() -> pd.DataFrame:
    rows = [{"dataset": "d", "rep": 0, "stage": "full", "criterion": "none", "rate": 0.0}]
    rows += [
        {"dataset": "d", "rep": 0, "stage": s, "criterion": c, "rate": r}
        for c in ("stn", "rnd")
        for r in (0.25, 0.75)
        for s in ("pruned", "resampled")
    ]
    frame = pd.DataFrame(rows)
    rng = np.random.default_rng(0)
    for col in ("elpd_loo", "lpd_test"):
        frame[col] = -30 - 10 * frame["rate"] + rng.normal(size=len(frame))
    frame["se"] = frame["lpd_test_se"] = 2.0
    frame["n_train"], frame["n_test"] = 90, 60
    frame["p_loo"] = 3.0
    frame["k_good"], frame["k_bad"], frame["k_very_bad"] = 89, 0, 0
    frame.loc[3, ["k_good", "k_bad"]] = [88, 1]
    return frame


def test_loo_figure_draws_the_full_reference_and_every_stage(tmp_path):
    table = _table()
    fig = loo_figure(table, title="d")
    train, test = fig.axes[:2]
    full_mean = table.loc[0, "elpd_loo"] / 90
    hlines = [ln for ln in train.get_lines() if len(set(ln.get_ydata())) == 1]
    assert any(np.isclose(ln.get_ydata()[0], full_mean) for ln in hlines)
    assert len(train.patches) >= 1  # the full posterior's +-1 SE band
    # one errorbar line per (criterion, stage) in each panel, x ticks at the rates
    assert [t.get_text() for t in train.get_xticklabels()] == ["25%", "75%"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "full posterior (band: +-1 SE)" in labels and "pruned" in labels
    assert any("Pareto k" in label for label in labels)  # row 3 has one bad k
    assert test.get_title().startswith("test set")
    assert not train.texts  # nothing failed here
    # a run where PSIS failed (most k > 1) is left out of the LOO panel, with a note
    table.loc[1, ["k_good", "k_very_bad"]] = [10, 80]
    table.loc[1, "elpd_loo"] = -2000.0
    fig2 = loo_figure(table)
    note = fig2.axes[0].texts[0].get_text()
    assert note.startswith("not shown: 1 of 9 runs (pruned)")
    lowest = min(min(ln.get_ydata()) for ln in fig2.axes[0].get_lines() if len(ln.get_ydata()))
    assert lowest > -2000.0 / 90
    matplotlib.pyplot.close(fig2)
    from bayesprune.figures.style import save_figure

    save_figure(fig, tmp_path / "loo.png")
    assert (tmp_path / "loo.png").stat().st_size > 20_000


def test_markdown_prints_counts_as_integers():
    text = table_markdown(_table())
    assert "| 89 | 0 | 0 |" in text and "89.0" not in text and "| 25% |" in text


def test_score_table_keeps_run_keys():
    idata, _, _ = _idata("regression")
    table = score_table([({"stage": "full", "rep": 0, "chain": 1}, idata)])
    assert list(table.columns[:3]) == ["stage", "rep", "chain"]
