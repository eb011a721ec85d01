"""Sample the full BNN posterior of one dataset and replicate; evaluate it."""

from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bayesprune.data import load_split
from bayesprune.evaluation import evaluate_posterior, predictive_summary
from bayesprune.io import load_npz, logged, save_npz, write_json
from bayesprune.networks import MLPSpec
from bayesprune.posterior import pooled_draws, sample_network, save_posterior

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    torch.set_num_threads(1)
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    spec = MLPSpec.from_config(
        meta["n_features"], meta["n_outputs"], snakemake.params.entry["network"]
    )
    model = load_npz(snakemake.input.model)
    noise_var = float(model["noise_var"])
    idata = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=snakemake.params.prior,
        settings=snakemake.params.sampler,
        seed=snakemake.params.seed,
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
    theta = pooled_draws(idata, "theta")
    tau2 = pooled_draws(idata, "tau2") if "tau2" in idata.posterior else None
    metrics = evaluate_posterior(
        spec, meta["task"], theta, tau2, arrays, meta, seed=snakemake.params.seed
    )
    save_npz(
        snakemake.output.predictive,
        **predictive_summary(spec, meta["task"], theta, tau2, arrays, meta),
    )
    write_json(snakemake.output.metrics, metrics)
    save_posterior(snakemake.output.posterior, idata)
    Path(snakemake.params.checkpoint).unlink(missing_ok=True)
    log.info("point metrics %s; predictive %s", metrics["point"], metrics["predictive"])
