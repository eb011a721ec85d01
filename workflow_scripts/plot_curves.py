"""Method A: pruning curves of one dataset, every criterion overlaid, with references."""

import pandas as pd

from bayesprune.figures.curves import pruning_curves_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import logged
from bayesprune.layout import keys_of
from bayesprune.loaders import load_curves

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    reps = [keys_of(path)["rep"] for path in snakemake.input.curves]
    curves = load_curves(list(snakemake.input.curves), reps)
    unpruned = pd.read_csv(snakemake.input.unpruned)
    unpruned = unpruned[unpruned["dataset"] == dataset]
    title = f"{dataset}: test error as parameters are removed (masked posterior mean)"
    fig = pruning_curves_figure(
        curves, rates=snakemake.params.rates, title=title, unpruned=unpruned
    )
    save_figure(fig, snakemake.output[0])
    log.info("%d curve points from %d replicates", len(curves), len(reps))
