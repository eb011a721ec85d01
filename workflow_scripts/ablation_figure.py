"""Heatmap of each switch's change of the test error, one panel per start config."""

import pandas as pd

from bayesprune.ablation_tables import plot_effects
from bayesprune.io import logged

with logged(snakemake.log[0]):
    plot_effects(pd.read_csv(snakemake.input[0]), snakemake.params.labels, snakemake.output[0])
