"""Concatenate every replicate's pruning curve into results/tables/pruning_curves.csv."""

import pandas as pd

from bayesprune.io import logged, read_output, write_csv

with logged(snakemake.log[0]) as log:
    frames = []
    for path, key in zip(snakemake.input, snakemake.params.rows, strict=True):
        frame = read_output(path, pd.read_csv, "CSV table")
        for col, value in reversed(list(key.items())):
            frame.insert(0, col, value)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    write_csv(snakemake.output[0], table)
    log.info("%d rows", len(table))
