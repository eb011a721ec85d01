"""Gather method B's final results and per-epoch logs into the Bayes-factor tables."""

import pandas as pd

from bayesprune.io import logged, read_output, write_csv, write_text
from bayesprune.tables import collect, summarise, to_markdown

with logged(snakemake.log[0]) as log:
    keys = snakemake.params.rows
    finals = collect(list(snakemake.input.finals), keys)
    epochs = []
    for path, key in zip(snakemake.input.histories, keys, strict=True):
        frame = read_output(path, pd.read_csv, "CSV table")
        for col, value in reversed(list(key.items())):
            frame.insert(0, col, value)
        epochs.append(frame)
    summary = summarise(finals, ["dataset", "method"], ["test_acc", "sparsity", "kept_params"])
    write_csv(snakemake.output.csv, finals)
    write_csv(snakemake.output.epochs, pd.concat(epochs, ignore_index=True))
    write_text(snakemake.output.md, to_markdown(summary))
    log.info("%d rows", len(finals))
