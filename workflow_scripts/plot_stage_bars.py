"""Method A: pruned vs resampled test error per rate and criterion for one dataset."""

import pandas as pd

from bayesprune.figures.stage_bars import stage_bars_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    table = pd.read_csv(snakemake.input.table)
    table = table[table["dataset"] == dataset]
    unpruned = pd.read_csv(snakemake.input.unpruned)
    unpruned = unpruned[unpruned["dataset"] == dataset]
    title = f"{dataset}: test error after pruning and after resampling"
    fig = stage_bars_figure(table, unpruned, title=title)
    save_figure(fig, snakemake.output[0])
    log.info("%d stage rows", len(table))
