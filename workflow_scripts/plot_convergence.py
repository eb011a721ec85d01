"""Method A: R-hat/ESS distributions and parameter densities per stage for one dataset."""

from bayesprune import plots
from bayesprune.io import logged
from bayesprune.layout import stage_key

with logged(snakemake.log[0]) as log:
    keys = [stage_key(path) for path in snakemake.input.params]
    dataset = snakemake.wildcards.dataset
    params = plots.load_stage_params(list(snakemake.input.params), keys)
    functions = plots.load_function_diagnostics(list(snakemake.input.diagnostics), keys)
    fig = plots.diagnostics_figure(
        params,
        functions,
        rhat_threshold=snakemake.params.rhat_threshold,
        title=f"{dataset}: convergence per stage (ArviZ rank-normalised split R-hat, bulk ESS)",
    )
    plots.save_figure(fig, snakemake.output.rhat)
    fig = plots.parameter_density_figure(
        params, title=f"{dataset}: parameter values per stage (posterior means, replicates pooled)"
    )
    plots.save_figure(fig, snakemake.output.density)
    log.info("%d parameter rows, %d function-space rows", len(params), len(functions))
