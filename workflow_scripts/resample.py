"""Resample a pruned network from the masked posterior mean; pruned coordinates stay exactly 0."""

from threadpoolctl import threadpool_limits

from bayesprune.data import load_split
from bayesprune.io import logged, read_json
from bayesprune.posterior import (
    load_posterior,
    network_of,
    pooled_draws,
    sample_network,
    with_observations,
)
from bayesprune.pruning import mask_from_dict, masked_mean
from bayesprune.stages import assess_stage, write_sampled_stage

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    full = load_posterior(snakemake.input.posterior)
    spec = network_of(full)
    pruned = mask_from_dict(read_json(snakemake.input.mask), spec)
    seed = snakemake.params.seed
    idata = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=snakemake.params.prior,
        settings=snakemake.params.sampler,
        seed=seed,
        theta_start=masked_mean(pooled_draws(full, "theta"), pruned),
        tau2_start=float(pooled_draws(full, "tau2").mean()) if "tau2" in full.posterior else None,
        mask=pruned,
        checkpoint=snakemake.params.checkpoint,
        logger=log,
        extra_attrs={
            "dataset": snakemake.wildcards.dataset,
            "replicate": int(snakemake.wildcards.rep),
            "stage": "resampled",
            "criterion": snakemake.wildcards.criterion,
            "rate": float(snakemake.wildcards.rate),
        },
    )
    stage = assess_stage(
        idata,
        spec,
        arrays,
        meta,
        pruned=pruned,
        seed=seed,
        n_function_points=snakemake.params.diagnostics["function_points"],
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
    log.info("point metrics %s; predictive %s", stage.metrics["point"], stage.metrics["predictive"])
