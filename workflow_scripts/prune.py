"""Score every run of the full posterior, prune at one (criterion, rate), assess the result."""

import pandas as pd
from threadpoolctl import threadpool_limits

from bayesprune.data.splits import load_split
from bayesprune.evaluation import evaluation_split
from bayesprune.io import logged, write_json
from bayesprune.likelihoods import PriorSettings
from bayesprune.posterior import load_posterior, network_of, save_posterior, with_observations
from bayesprune.stages import prune_runs, write_stage

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    idata = load_posterior(snakemake.input.posterior)
    spec = network_of(idata)
    p = snakemake.params.pruning
    criterion, rate = snakemake.wildcards.criterion, float(snakemake.wildcards.rate)
    stage, masks, pruned_idata = prune_runs(
        idata,
        spec,
        arrays,
        meta,
        pd.read_csv(snakemake.input.full_params),
        unit=p["unit"],
        criterion=criterion,
        rate=rate,
        scope=p["scope"],
        include_biases=p["include_biases"],
        prior=PriorSettings.from_params(snakemake.params.prior),
        seed=snakemake.params.seed,
        n_function_points=snakemake.params.diagnostics["function_points"],
        rnd=p["rnd"],
        eval_split=evaluation_split(
            arrays, snakemake.params.evaluation["split"], snakemake.params.evaluation_seed
        ),
    )
    for warning in stage.diagnostics.get("warnings", []):
        log.warning(warning)
    write_json(snakemake.output.mask, masks)
    write_stage(
        stage,
        metrics=snakemake.output.metrics,
        predictive=snakemake.output.predictive,
        diagnostics=snakemake.output.diagnostics,
        param_table=snakemake.output.param_table,
    )
    # the pruned stage's own file (every run's masked draws), for az.loo / az.compare
    save_posterior(
        snakemake.output.posterior,
        with_observations(pruned_idata, spec, meta["task"], arrays, seed=snakemake.params.seed),
    )
    for run, mask in zip(stage.metrics["runs"], masks["runs"], strict=True):
        log.info(
            "%s at %g, %s: pruned %d of %d; point metrics %s",
            criterion,
            rate,
            run["run"],
            mask["n_pruned"],
            spec.n_params,
            run["point"],
        )
