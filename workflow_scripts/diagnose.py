"""Convergence diagnostics of one stage (full, pruned or resampled) in parameter and function space."""

import numpy as np

from bayesprune.data import load_split
from bayesprune.diagnostics import diagnose, per_parameter_table
from bayesprune.io import logged, read_json, write_csv, write_json
from bayesprune.posterior import load_posterior, network_of
from bayesprune.pruning import mask_from_dict

with logged(snakemake.log[0]) as log:
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    idata = load_posterior(snakemake.input.posterior)
    spec = network_of(idata)
    mask_file = snakemake.input.get("mask")
    pruned = mask_from_dict(read_json(mask_file), spec) if mask_file else None
    # Function space: predictions at M test points spread evenly over the test set.
    m = min(snakemake.params.diagnostics["function_points"], len(arrays["y_test"]))
    points = np.linspace(0, len(arrays["y_test"]) - 1, m).round().astype(int)
    table = per_parameter_table(idata, pruned=pruned)
    result = diagnose(
        idata,
        spec,
        arrays["X_test"][points],
        meta["task"],
        y_points=arrays["y_test"][points],
        pruned=pruned,
        param_table=table,
    )
    write_csv(snakemake.output.param_table, table)
    write_json(snakemake.output.diagnostics, result)
    log.info("stage %s: %s", snakemake.wildcards.stage, result["parameter"])
