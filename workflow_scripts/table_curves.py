"""Concatenate every replicate's pruning curve into results/tables/pruning_curves.csv."""

from bayesprune.io import logged, write_csv
from bayesprune.tables import concat_tables

with logged(snakemake.log[0]) as log:
    table = concat_tables(list(snakemake.input))
    write_csv(snakemake.output[0], table)
    log.info("%d rows", len(table))
