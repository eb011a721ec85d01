"""Gather method B's final results and per-epoch logs into the Bayes-factor tables."""

from bayesprune.io import logged, write_csv, write_text
from bayesprune.tables import collect, concat_tables, summarise, to_markdown

with logged(snakemake.log[0]) as log:
    finals = collect(list(snakemake.input.finals))
    epochs = concat_tables(list(snakemake.input.histories))
    summary = summarise(finals, ["dataset", "method"], ["test_acc", "sparsity", "kept_params"])
    write_csv(snakemake.output.csv, finals)
    write_csv(snakemake.output.epochs, epochs)
    write_text(snakemake.output.md, to_markdown(summary))
    log.info("%d rows", len(finals))
