"""Resample every run's pruned network in one batch, each from its own masked posterior mean
with dispersed sub-chains; pruned coordinates stay exactly 0."""

from threadpoolctl import threadpool_limits

from bayesprune.data.splits import load_split
from bayesprune.evaluation import evaluation_split
from bayesprune.io import config_digest, logged, read_json
from bayesprune.likelihoods import PriorSettings
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.posterior import load_posterior, network_of, with_observations
from bayesprune.resampling import assess_resampled, resample_starts
from bayesprune.sampling import sample_network
from bayesprune.stages import write_sampled_stage

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    full = load_posterior(snakemake.input.posterior)
    spec = network_of(full)
    masks = read_json(snakemake.input.mask)
    settings, seed = snakemake.params.sampler, snakemake.params.seed
    theta0, chain_mask, tau2_0, runs = resample_starts(
        full,
        spec,
        masks,
        chains_per_run=settings["chains_per_run"],
        start=settings["sub_chain_start"],
        jitter=settings["init_jitter"],
        seed=seed,
    )
    log.info(
        "%d runs x %d sub-chains (first at the run's masked posterior mean, others: %s)",
        len(runs),
        settings["chains_per_run"],
        settings["sub_chain_start"],
    )
    idata = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=PriorSettings.from_params(snakemake.params.prior),
        settings=SamplerSettings.from_params(settings),
        seed=seed,
        theta_start=theta0,
        tau2_start=tau2_0,
        mask=chain_mask,
        checkpoint=snakemake.params.checkpoint,
        logger=log,
        likelihood=snakemake.params.likelihood,
        config_digest=config_digest(
            {"prior": snakemake.params.prior, "settings": settings, "seed": seed}
        ),
        extra_attrs={
            "dataset": snakemake.wildcards.dataset,
            "replicate": int(snakemake.wildcards.rep),
            "stage": "resampled",
            "criterion": snakemake.wildcards.criterion,
            "rate": float(snakemake.wildcards.rate),
            "runs": runs,
        },
    )
    stage = assess_resampled(
        idata,
        spec,
        arrays,
        meta,
        masks,
        runs,
        seed=seed,
        n_function_points=snakemake.params.diagnostics["function_points"],
        eval_split=evaluation_split(
            arrays, snakemake.params.evaluation["split"], snakemake.params.evaluation_seed
        ),
    )
    out = snakemake.output
    write_sampled_stage(
        stage,
        with_observations(idata, spec, meta["task"], arrays, seed=seed),
        posterior=out.posterior,
        checkpoint=snakemake.params.checkpoint,
        metrics=out.metrics,
        predictive=out.predictive,
        diagnostics=out.diagnostics,
        param_table=out.param_table,
    )
    for run in stage.metrics["runs"]:
        log.info("%s: point %s; predictive %s", run["run"], run["point"], run["predictive"])
