"""Score every parameter from the full posterior, prune at one (criterion, rate), assess the result."""

import pandas as pd
from threadpoolctl import threadpool_limits

from bayesprune.data import load_split
from bayesprune.diagnostics import mask_parameter_table
from bayesprune.io import logged, write_json
from bayesprune.posterior import (
    load_posterior,
    network_of,
    pooled_draws,
    save_posterior,
    with_observations,
)
from bayesprune.pruning import make_mask, mask_to_dict, scores
from bayesprune.stages import assess_stage, masked_posterior, write_stage

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    idata = load_posterior(snakemake.input.posterior)
    spec = network_of(idata)
    p, seed = snakemake.params.pruning, snakemake.params.seed
    criterion, rate = snakemake.wildcards.criterion, float(snakemake.wildcards.rate)
    score = scores(pooled_draws(idata, "theta"), criterion, seed=seed)
    pruned = make_mask(score, rate, spec, scope=p["scope"], include_biases=p["include_biases"])
    pruned_idata = masked_posterior(
        idata,
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        snakemake.params.prior,
        pruned,
    )
    stage = assess_stage(
        pruned_idata,
        spec,
        arrays,
        meta,
        pruned=pruned,
        seed=seed,
        n_function_points=snakemake.params.diagnostics["function_points"],
        # kept parameters have the full posterior's draws: reuse its per-parameter statistics
        param_table=mask_parameter_table(pd.read_csv(snakemake.input.full_params), pruned),
    )
    write_json(
        snakemake.output.mask,
        mask_to_dict(
            pruned,
            spec,
            rate=rate,
            criterion=criterion,
            scope=p["scope"],
            include_biases=p["include_biases"],
            seed=seed,
        ),
    )
    write_stage(
        stage,
        metrics=snakemake.output.metrics,
        predictive=snakemake.output.predictive,
        diagnostics=snakemake.output.diagnostics,
        param_table=snakemake.output.param_table,
    )
    # the pruned stage's own file, for az.loo / az.compare beside the sampled stages
    save_posterior(
        snakemake.output.posterior,
        with_observations(pruned_idata, spec, meta["task"], arrays, seed=seed),
    )
    log.info(
        "%s at %g: pruned %d of %d; point metrics %s",
        criterion,
        rate,
        len(pruned),
        spec.n_params,
        stage.metrics["point"],
    )
