"""Sample the full BNN posterior of one dataset and replicate; assess it."""

import numpy as np
from threadpoolctl import threadpool_limits

from bayesprune.data.splits import load_split
from bayesprune.io import config_digest, load_npz, logged
from bayesprune.likelihoods import PriorSettings
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.networks import MLPSpec
from bayesprune.posterior import with_observations
from bayesprune.sampling import sample_network
from bayesprune.stages import assess_full, write_sampled_stage

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    spec = MLPSpec.from_config(meta["n_features"], meta["n_outputs"], snakemake.params.network)
    model = load_npz(snakemake.input.model)
    noise_var = float(model["noise_var"])
    seed = snakemake.params.seed
    idata = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=PriorSettings.from_params(snakemake.params.prior),
        settings=SamplerSettings.from_params(snakemake.params.sampler),
        seed=seed,
        theta_start=model["theta"],
        tau2_start=None if np.isnan(noise_var) else noise_var,
        checkpoint=snakemake.params.checkpoint,
        logger=log,
        likelihood=snakemake.params.likelihood,
        config_digest=config_digest(
            {"prior": snakemake.params.prior, "settings": snakemake.params.sampler, "seed": seed}
        ),
        extra_attrs={
            "dataset": snakemake.wildcards.dataset,
            "replicate": int(snakemake.wildcards.rep),
            "stage": "full",
        },
    )
    stage = assess_full(
        idata,
        spec,
        arrays,
        meta,
        seed=seed,
        n_function_points=snakemake.params.diagnostics["function_points"],
    )
    modes = stage.diagnostics["replicate"]["modes"]
    log.info("chains in distinguishable modes: %d groups %s", modes["n_modes"], modes["groups"])
    rep = stage.diagnostics["replicate"]
    log.info(
        "parameter R-hat median %.3f raw, %.3f aligned",
        rep["parameter_raw"]["rhat_median"],
        rep["parameter"]["rhat_median"],
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
