"""Pruning curve: test error at the masked posterior mean as parameters are removed one at a time."""

import pandas as pd
from threadpoolctl import threadpool_limits

from bayesprune.data import load_split
from bayesprune.io import logged, write_csv
from bayesprune.posterior import load_posterior, network_of, pooled_draws
from bayesprune.pruning import pruning_curve

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    idata = load_posterior(snakemake.input.posterior)
    spec = network_of(idata)
    theta = pooled_draws(idata, "theta")
    tau2 = pooled_draws(idata, "tau2") if "tau2" in idata.posterior else None
    p = snakemake.params.pruning
    curves = [
        pruning_curve(
            spec,
            meta["task"],
            theta,
            arrays,
            meta,
            criterion,
            snakemake.params.seed,
            snakemake.params.max_rate,
            n_points=p["curve_points"] or None,
            scope=p["scope"],
            include_biases=p["include_biases"],
            tau2_draws=tau2,
        )
        for criterion in snakemake.params.criteria
    ]
    table = pd.concat(curves, ignore_index=True)
    write_csv(snakemake.output[0], table)
    log.info("%d curve points for %s", len(table), snakemake.params.criteria)
