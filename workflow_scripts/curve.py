"""Pruning curves: test error at each run's masked posterior mean as parameters are removed
one at a time (one curve per run and criterion, on the run's aligned draws)."""

import pandas as pd
from threadpoolctl import threadpool_limits

from bayesprune.config import derive_seed
from bayesprune.data.splits import load_split
from bayesprune.io import logged, write_csv
from bayesprune.posterior import draws_by_chain, load_posterior, network_of
from bayesprune.pruning import pruning_curve
from bayesprune.runs import run_draws, runs_of

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    idata = load_posterior(snakemake.input.posterior)
    spec = network_of(idata)
    theta = draws_by_chain(idata)
    tau2 = draws_by_chain(idata, "tau2") if "tau2" in idata.posterior else None
    p = snakemake.params.pruning
    curves = []
    for run in runs_of(p["unit"], theta.shape[0]):
        draws = run_draws(spec, theta, run)
        for criterion in snakemake.params.criteria:
            curve = pruning_curve(
                spec,
                meta["task"],
                draws,
                arrays,
                meta,
                criterion,
                derive_seed(snakemake.params.seed, run.label),  # as the prune job's run
                snakemake.params.max_rate,
                n_points=p["curve_points"] or None,
                scope=p["scope"],
                include_biases=p["include_biases"],
                tau2_draws=None if tau2 is None else tau2[list(run.chains)].reshape(-1),
            )
            curves.append(curve.assign(run=run.label, chain=run.chain))
    table = pd.concat(curves, ignore_index=True)
    write_csv(snakemake.output[0], table)
    log.info("%d curve points for %s", len(table), snakemake.params.criteria)
