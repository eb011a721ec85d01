"""Gather method B's trade-off study: every run, the matched comparison, a Markdown summary."""

import pandas as pd

from bayesprune.io import logged, write_csv, write_text
from bayesprune.tradeoff import matched_comparison, tradeoff_markdown

with logged(snakemake.log[0]) as log:
    study = pd.concat([pd.read_csv(p) for p in snakemake.input], ignore_index=True)
    write_csv(snakemake.output.csv, study)
    write_csv(snakemake.output.matched, matched_comparison(study))
    write_text(snakemake.output.md, tradeoff_markdown(study))
    log.info("%d runs from %d files", len(study), len(snakemake.input))
