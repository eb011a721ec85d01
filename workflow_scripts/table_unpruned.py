"""Gather the unpruned networks' metrics into results/tables/unpruned.{csv,md}."""

from bayesprune.io import logged, write_csv, write_text
from bayesprune.tables import collect, to_markdown

with logged(snakemake.log[0]) as log:
    table = collect(list(snakemake.input))
    write_csv(snakemake.output.csv, table)
    write_text(snakemake.output.md, to_markdown(table))
    log.info("%d rows", len(table))
