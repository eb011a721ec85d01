"""Method B: test accuracy vs compression ratio of every method of the trade-off study."""

import pandas as pd

from bayesprune.figures.style import save_figure
from bayesprune.figures.tradeoff import tradeoff_figure
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    study = pd.read_csv(snakemake.input[0])
    study = study[study["dataset"] == dataset]
    fig = tradeoff_figure(
        study, title=f"{dataset}: test accuracy vs compression ({study['seed'].nunique()} seeds)"
    )
    save_figure(fig, snakemake.output[0])
    log.info("%d runs", len(study))
