"""Method A: R-hat/ESS distributions and parameter densities per stage for one dataset."""

from bayesprune.figures.convergence import diagnostics_figure, parameter_density_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import logged
from bayesprune.layout import stage_key
from bayesprune.loaders import load_function_diagnostics, load_stage_params

with logged(snakemake.log[0]) as log:
    keys = [stage_key(path) for path in snakemake.input.params]
    dataset = snakemake.wildcards.dataset
    params = load_stage_params(list(snakemake.input.params), keys)
    functions = load_function_diagnostics(list(snakemake.input.diagnostics), keys)
    fig = diagnostics_figure(
        params,
        functions,
        rhat_threshold=snakemake.params.rhat_threshold,
        title=f"{dataset}: convergence per stage (ArviZ rank-normalised split R-hat, bulk ESS)",
    )
    save_figure(fig, snakemake.output.rhat)
    fig = parameter_density_figure(
        params, title=f"{dataset}: parameter values per stage (posterior means, replicates pooled)"
    )
    save_figure(fig, snakemake.output.density)
    log.info("%d parameter rows, %d function-space rows", len(params), len(functions))
