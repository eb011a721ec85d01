"""Method A: pruning curves of one dataset, every criterion overlaid, with references."""

import pandas as pd

from bayesprune.figures.curves import pruning_curves_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import logged
from bayesprune.loaders import load_curves

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    curves = load_curves(list(snakemake.input.curves), snakemake.params.reps)
    unpruned = pd.read_csv(snakemake.input.unpruned)
    unpruned = unpruned[unpruned["dataset"] == dataset]
    title = f"{dataset}: test error as parameters are removed (masked posterior mean)"
    fig = pruning_curves_figure(
        curves, rates=snakemake.params.rates, title=title, unpruned=unpruned
    )
    save_figure(fig, snakemake.output[0])
    log.info("%d curve points from %d replicates", len(curves), len(snakemake.params.reps))
