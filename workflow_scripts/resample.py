"""Resample a pruned network from the masked posterior mean; pruned coordinates stay exactly 0."""

from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from bayesprune.data import load_split
from bayesprune.evaluation import evaluate_posterior, predictive_summary
from bayesprune.io import logged, read_json, save_npz, write_json
from bayesprune.posterior import (
    load_posterior,
    network_of,
    pooled_draws,
    sample_network,
    save_posterior,
)
from bayesprune.pruning import mask_from_dict, masked_mean

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    torch.set_num_threads(1)
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    full = load_posterior(snakemake.input.posterior)
    spec = network_of(full)
    pruned = mask_from_dict(read_json(snakemake.input.mask), spec)
    full_tau2 = pooled_draws(full, "tau2").mean() if "tau2" in full.posterior else None
    idata = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=snakemake.params.prior,
        settings=snakemake.params.sampler,
        seed=snakemake.params.seed,
        theta_start=masked_mean(pooled_draws(full, "theta"), pruned),
        tau2_start=full_tau2,
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
    theta = pooled_draws(idata, "theta")
    tau2 = pooled_draws(idata, "tau2") if "tau2" in idata.posterior else None
    metrics = evaluate_posterior(
        spec, meta["task"], theta, tau2, arrays, meta, pruned=pruned, seed=snakemake.params.seed
    )
    save_npz(
        snakemake.output.predictive,
        **predictive_summary(spec, meta["task"], theta, tau2, arrays, meta, pruned=pruned),
    )
    write_json(snakemake.output.metrics, metrics)
    save_posterior(snakemake.output.posterior, idata)
    Path(snakemake.params.checkpoint).unlink(missing_ok=True)
    log.info("point metrics %s; predictive %s", metrics["point"], metrics["predictive"])
