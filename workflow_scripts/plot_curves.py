"""Method A: pruning curves of one dataset (every replicate, mean and min-max band)."""

from bayesprune import plots
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    curves = plots.load_curves(list(snakemake.input), snakemake.params.reps)
    title = f"{snakemake.wildcards.dataset}: test error as parameters are removed (masked posterior mean)"
    fig = plots.pruning_curves_figure(curves, rates=snakemake.params.rates, title=title)
    plots.save_figure(fig, snakemake.output[0])
    log.info("%d curve points from %d replicates", len(curves), len(snakemake.params.reps))
