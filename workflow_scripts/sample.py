"""Sample the full BNN posterior of one dataset and replicate; assess it."""

from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bayesprune.data import load_split
from bayesprune.io import load_npz, logged
from bayesprune.networks import MLPSpec
from bayesprune.posterior import sample_network, save_posterior
from bayesprune.stages import assess_stage, write_stage

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    torch.set_num_threads(1)
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    spec = MLPSpec.from_config(
        meta["n_features"], meta["n_outputs"], snakemake.params.entry["network"]
    )
    model = load_npz(snakemake.input.model)
    noise_var = float(model["noise_var"])
    seed = snakemake.params.seed
    idata = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=snakemake.params.prior,
        settings=snakemake.params.sampler,
        seed=seed,
        theta_start=model["theta"],
        tau2_start=None if np.isnan(noise_var) else noise_var,
        checkpoint=snakemake.params.checkpoint,
        logger=log,
        extra_attrs={
            "dataset": snakemake.wildcards.dataset,
            "replicate": int(snakemake.wildcards.rep),
            "stage": "full",
        },
    )
    stage = assess_stage(
        idata,
        spec,
        arrays,
        meta,
        seed=seed,
        n_function_points=snakemake.params.diagnostics["function_points"],
    )
    write_stage(
        stage,
        metrics=snakemake.output.metrics,
        predictive=snakemake.output.predictive,
        diagnostics=snakemake.output.diagnostics,
        param_table=snakemake.output.param_table,
    )
    save_posterior(snakemake.output.posterior, idata)
    Path(snakemake.params.checkpoint).unlink(missing_ok=True)
    log.info("point metrics %s; predictive %s", stage.metrics["point"], stage.metrics["predictive"])
