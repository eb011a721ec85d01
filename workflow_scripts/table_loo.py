"""Gather the per-dataset LOO tables into results/tables/loo.csv and loo.md."""

import pandas as pd

from bayesprune.io import atomic_path, logged, write_csv
from bayesprune.model_comparison import table_markdown

with logged(snakemake.log[0]) as log:
    table = pd.concat([pd.read_csv(p) for p in snakemake.input], ignore_index=True)
    write_csv(snakemake.output.csv, table)
    with atomic_path(snakemake.output.md) as tmp:
        tmp.write_text(table_markdown(table))
    log.info("%d rows", len(table))
