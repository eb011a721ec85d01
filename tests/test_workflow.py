"""Real Snakemake runs: the tiny config end to end, a no-op rerun, lint, and DAGs of the shipped configs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from smk import ROOT, SHARED, SNAKEMAKE, snakemake, tiny_args

pytestmark = pytest.mark.slow


def test_every_target_exists(tiny_run):
    res = tiny_run / "results"
    for name in ("unpruned", "pruning", "pruning_summary", "pruning_curves", "bayes_factor"):
        assert (res / "tables" / f"{name}.csv").stat().st_size > 0, name
    for ds in ("iris", "diabetes"):
        base = res / "method_a" / ds / "rep0"
        for stage in (
            "full",
            *(f"{s}/{c}/0.5" for s in ("pruned", "resampled") for c in ("stn", "rnd")),
        ):
            for name in ("metrics.json", "diagnostics.json"):
                assert (base / stage / name).is_file(), base / stage / name
        assert (base / "full" / "posterior.nc").is_file()
        assert (base / "resampled" / "stn" / "0.5" / "posterior.nc").is_file()
        assert (base / "pruned" / "stn" / "0.5" / "mask.json").is_file()
    for method in (
        "unpruned",
        "bayes_random",
        "bayes_magnitude",
        "random",
        "magnitude",
        "gradual_magnitude",
    ):
        assert (res / "method_b" / "digits" / "rep0" / method / "final.json").is_file()
    # the mirror was used for the zip
    assert (tiny_run / "data" / "raw" / "bayes_prun_data.zip").is_file()


def test_tables_have_the_expected_rows(tiny_run):
    table = pd.read_csv(tiny_run / "results/tables/pruning.csv")
    # per dataset and run (2 chains, each its own run): 1 full + 2 criteria x 1 rate x
    # (pruned + resampled)
    assert len(table) == 2 * 2 * (1 + 2 * 2)
    assert set(table["stage"]) == {"full", "pruned", "resampled"}
    assert set(table["run"]) == {"chain0", "chain1"} and set(table["chain"]) == {0, 1}
    full = pd.read_csv(tiny_run / "results/tables/full_posterior.csv")
    assert len(full) == 2 and set(full["n_chains"]) == {2}
    assert full["rhat_median_aligned"].notna().all() and full["n_modes"].between(1, 2).all()
    bf = pd.read_csv(tiny_run / "results/tables/bayes_factor.csv")
    assert len(bf) == 6 and set(bf["method"]) >= {"bayes_random", "gradual_magnitude"}
    unpruned = pd.read_csv(tiny_run / "results/tables/unpruned.csv")
    assert len(unpruned) == 2
    epochs = pd.read_csv(tiny_run / "results/tables/bayes_factor_epochs.csv")
    gated = epochs[epochs["method"].str.startswith("bayes_")]
    assert gated["rates_tried"].str.startswith("0.75:").all()  # the largest rate first


def test_tradeoff_study_outputs(tiny_run):
    study = pd.read_csv(tiny_run / "results/tables/bayes_factor_tradeoff.csv")
    assert sorted(study["seed"].unique()) == [0, 1]
    for _, rows in study.groupby("seed"):
        assert (rows["method"] == "unpruned").sum() == 1
        assert (rows["method"] == "bayes_magnitude").sum() == 1
        for base in ("gradual_magnitude", "oneshot_magnitude"):
            assert 0.5 in set(rows.loc[rows["method"] == base, "target_sparsity"].round(6))
    assert {"compression", "dense_flops", "sparse_flops", "sparsity", "test_acc"} <= set(study)
    matched = pd.read_csv(tiny_run / "results/tables/bayes_factor_tradeoff_matched.csv")
    assert len(matched) == 2  # one gated run per seed
    md = (tiny_run / "results/tables/bayes_factor_tradeoff.md").read_text()
    assert "| digits | unpruned | dense |" in md
    png = tiny_run / "results/figures/method_b/digits/tradeoff.png"
    assert png.stat().st_size > 20_000


def test_pruned_masks_have_the_configured_size(tiny_run):
    mask = json.loads(
        (tiny_run / "results/method_a/iris/rep0/pruned/stn/0.5/mask.json").read_text()
    )
    n_params = 4 * 6 + 6 + 6 * 3 + 3
    assert mask["unit"] == "chain" and [r["run"] for r in mask["runs"]] == ["chain0", "chain1"]
    for run in mask["runs"]:
        assert len(run["pruned"]) == -(-n_params // 2)  # ceil(0.5 * P)
    # each run's resampled sub-chains keep exactly its own pruned coordinates at 0
    import arviz as az

    post = az.from_netcdf(tiny_run / "results/method_a/iris/rep0/resampled/stn/0.5/posterior.nc")
    theta = post.posterior["theta"].values
    runs = json.loads(post.posterior.attrs["runs"])
    assert theta.shape[0] == 2 * 2  # 2 runs x chains_per_run 2
    for run, masked in zip(runs, mask["runs"], strict=True):
        sub = theta[run["sub_chains"]]
        assert np.all(sub[..., masked["pruned"]] == 0.0)
        kept = np.setdiff1d(np.arange(n_params), masked["pruned"])
        assert np.all(np.ptp(sub[..., kept].reshape(-1, kept.size), axis=0) > 0)


def test_second_run_has_nothing_to_do(tiny_run):
    result = snakemake(tiny_run, *tiny_args(), "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_lint_is_clean():
    result = subprocess.run(
        [*SNAKEMAKE, "--lint", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_snakefmt_is_clean():
    snakefmt = [sys.executable, "-m", "snakefmt"]
    files = [str(ROOT / "Snakefile"), str(ROOT / "rules")]
    result = subprocess.run([*snakefmt, "--check", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_paper_config_dag_builds_with_the_mirror(tmp_path):
    result = snakemake(
        tmp_path,
        "--configfile",
        str(ROOT / "config/paper.yaml"),
        "--config",
        f"mirror={SHARED}",
        "--dry-run",
        "--quiet",
        "rules",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    out = result.stdout + result.stderr
    for rule in (
        "download",
        "prepare",
        "train_unpruned",
        "sample",
        "prune",
        "resample",
        "curve",
        "bf_train",
    ):
        assert rule in out, rule


def test_bad_config_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "tests/configs/tiny.yaml").read_text().replace("rates: [0.5]", "rates: [1.5]")
    bad.write_text(text)
    result = snakemake(tmp_path, "--configfile", str(bad))
    assert result.returncode != 0
    assert "method_a.pruning.rates" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()


def _job_counts(dry_run_output: str) -> dict[str, int]:
    counts, in_stats = {}, False
    for line in dry_run_output.splitlines():
        if line.startswith("Job stats"):
            in_stats = True
            continue
        if in_stats:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] == "total":
                    break
                counts[parts[0]] = int(parts[1])
    return counts


def test_config_change_reruns_exactly_the_affected_jobs(tiny_run, tmp_path):
    # A resampling setting touches the resampling jobs and what reads them, nothing upstream.
    text = (ROOT / "tests/configs/tiny.yaml").read_text()
    changed = tmp_path / "tiny_changed.yaml"
    changed.write_text(text.replace("resample: {samples: 200,", "resample: {samples: 240,"))
    assert changed.read_text() != text
    result = snakemake(
        tiny_run, "--configfile", str(changed), "--config", f"mirror={SHARED}", "--dry-run"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = _job_counts(result.stdout + result.stderr)
    assert counts.get("resample") == 4, counts
    assert not {"sample", "prune", "train_unpruned", "prepare", "bf_train", "curve"} & set(counts)


def test_tradeoff_grid_change_reruns_only_the_study(tiny_run, tmp_path):
    text = (ROOT / "tests/configs/tiny.yaml").read_text()
    changed = tmp_path / "tiny_grid.yaml"
    changed.write_text(text.replace("    likelihood_scale: [0.1]", "    likelihood_scale: [0.2]"))
    assert changed.read_text() != text
    result = snakemake(
        tiny_run, "--configfile", str(changed), "--config", f"mirror={SHARED}", "--dry-run"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = _job_counts(result.stdout + result.stderr)
    assert counts.get("bf_tradeoff") == 2, counts
    assert {"table_bf_tradeoff", "plot_bf_tradeoff"} <= set(counts), counts
    assert not {"bf_train", "prepare", "sample", "table_bayes_factor"} & set(counts), counts


def test_every_stage_file_supports_arviz_model_comparison(tiny_run):
    import arviz as az
    import pandas as pd

    from bayesprune.posterior import load_posterior

    base = tiny_run / "results/method_a/iris/rep0"
    files = {
        "full": base / "full/posterior.nc",
        "pruned": base / "pruned/stn/0.5/posterior.nc",
        "resampled": base / "resampled/stn/0.5/posterior.nc",
    }
    stages = {name: load_posterior(path) for name, path in files.items()}
    for idata in stages.values():
        assert {"log_likelihood", "posterior_predictive", "observed_data"} <= set(idata.groups())
        assert "log_likelihood_test" in idata.groups()
    table = az.compare(stages)
    assert set(table.index) == set(files) and table["elpd_loo"].notna().all()
    loo = pd.read_csv(tiny_run / "results/tables/loo.csv")
    # one row per run (2 chains, each its own run) of every stage: full + criteria x rates x
    # (pruned, resampled), per dataset
    assert len(loo) == 2 * 2 * (1 + 2 * 1 * 2)
    assert set(loo["run"]) == {"chain0", "chain1"}
    assert set(loo["stage"]) == {"full", "pruned", "resampled"}
    assert (loo["k_good"] + loo["k_bad"] + loo["k_very_bad"] == loo["n_train"]).all()
    assert (tiny_run / "results/figures/method_a/iris/loo.png").stat().st_size > 20_000


def test_no_empty_checkpoint_folders_remain(tiny_run):
    ck = tiny_run / "results/checkpoints"
    assert not ck.exists() or any(p.is_file() for p in ck.rglob("*"))


def test_nested_command_line_override_is_typed_and_merged(tiny_run):
    # --config values are typed as YAML and nested mappings merge key by key
    result = snakemake(
        tiny_run,
        *tiny_args(),
        "method_a={resample: {samples: 240}}",
        "--dry-run",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = _job_counts(result.stdout + result.stderr)
    assert counts.get("resample") == 4, counts
    assert not {"sample", "prune", "train_unpruned", "prepare", "bf_train", "curve"} & set(counts)


def test_more_replicates_add_jobs_without_touching_existing_ones(tiny_run, tmp_path):
    text = (ROOT / "tests/configs/tiny.yaml").read_text()
    more = tmp_path / "tiny_more.yaml"
    # iris is the first dataset with `replicates: 1`
    more.write_text(text.replace("replicates: 1}", "replicates: 2}", 1))
    result = snakemake(
        tiny_run, "--configfile", str(more), "--config", f"mirror={SHARED}", "--dry-run"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = _job_counts(result.stdout + result.stderr)
    # only iris rep1: one split, one network, one posterior, its 2 x 1 prunes and resamples
    assert counts.get("prepare") == 1 and counts.get("sample") == 1, counts
    assert counts.get("prune") == 2 and counts.get("resample") == 2, counts
    assert "rep0" not in "".join(
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip().startswith("output:")
    )


# Last: it reruns a job of the shared tiny run, which makes that run's downstream outdated.
def test_same_seed_and_config_give_identical_samples(tiny_run):
    from bayesprune.posterior import load_posterior, pooled_draws

    target = "results/method_a/iris/rep0/full/posterior.nc"
    before = pooled_draws(load_posterior(tiny_run / target), "theta")
    metrics_before = (tiny_run / "results/method_a/iris/rep0/full/metrics.json").read_text()
    result = snakemake(tiny_run, *tiny_args(), "--forcerun", target, "--", target)
    assert result.returncode == 0, result.stderr[-3000:]
    after = pooled_draws(load_posterior(tiny_run / target), "theta")
    assert (before == after).all()
    assert (tiny_run / "results/method_a/iris/rep0/full/metrics.json").read_text() == metrics_before
