"""The ablation's tables: every row, the summary over runs, each switch's effects, Markdown."""

import pandas as pd

from bayesprune.ablation_tables import effects, markdown_report, summarise
from bayesprune.io import logged, write_csv, write_text

with logged(snakemake.log[0]) as log:
    frame = pd.concat([pd.read_csv(p) for p in snakemake.input], ignore_index=True)
    summary = summarise(frame)
    write_csv(snakemake.output.csv, frame)
    write_csv(snakemake.output.summary, summary)
    write_csv(snakemake.output.effects, effects(summary))
    p = snakemake.params
    write_text(snakemake.output.md, markdown_report(summary, p.grid, p.labels, p.lengths))
    log.info("%d rows from %d cells", len(frame), len(snakemake.input))
