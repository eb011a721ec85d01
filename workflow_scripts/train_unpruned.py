"""Train the unpruned deterministic network of one dataset and replicate; save it and metrics."""

import numpy as np
import torch

from bayesprune.data.splits import load_split
from bayesprune.evaluation import assess_posterior
from bayesprune.io import logged, save_npz, write_json
from bayesprune.networks import MLPSpec, resolve_device
from bayesprune.training import train_map

with logged(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    spec = MLPSpec.from_config(meta["n_features"], meta["n_outputs"], snakemake.params.network)
    train = snakemake.params.train
    result = train_map(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        epochs=train["epochs"],
        batch_size=train["batch_size"],
        lr=train["lr"],
        weight_decay=train["weight_decay"],
        seed=snakemake.params.seed,
        device=resolve_device(snakemake.params.device),
    )
    tau2 = None if result.noise_var is None else np.array([result.noise_var])
    metrics, _ = assess_posterior(spec, meta["task"], result.theta[None, :], tau2, arrays, meta)
    metrics = {
        "point": metrics["point"],
        "size": metrics["size"],
        "final_train_loss": result.history[-1]["train_loss"],
    }
    save_npz(
        snakemake.output.model,
        theta=result.theta,
        noise_var=np.array(np.nan if result.noise_var is None else result.noise_var),
        sizes=np.array(spec.sizes),
    )
    write_json(snakemake.output.metrics, metrics)
    log.info("metrics: %s", metrics["point"])
