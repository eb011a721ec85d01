"""Gather full, pruned and resampled metrics + diagnostics into the pruning tables (one row per
run), and the full posterior's per-chain / pooled / aligned comparison."""

from bayesprune.io import logged, write_csv, write_text
from bayesprune.tables import (
    SUMMARY_KEYS,
    full_posterior_table,
    pruning_table,
    stage_table,
    summarise,
    summary_markdown,
    to_markdown,
)

with logged(snakemake.log[0]) as log:
    inp = snakemake.input
    table = pruning_table(
        # the full posterior's runs as pruning.unit names them: every chain, or the pooled one
        stage_table(inp.full, inp.full_diag, "full", snakemake.params.unit == "replicate"),
        stage_table(inp.pruned, inp.pruned_diag, "pruned"),
        stage_table(inp.resampled, inp.resampled_diag, "resampled"),
    )
    summary = summarise(table, SUMMARY_KEYS)
    full = full_posterior_table(inp.full, inp.full_diag)
    write_csv(snakemake.output.csv, table)
    write_csv(snakemake.output.summary, summary)
    write_text(snakemake.output.md, summary_markdown(summary))
    write_csv(snakemake.output.full_csv, full)
    write_text(snakemake.output.full_md, to_markdown(full))
    log.info("%d rows, %d summary rows, %d replicates", len(table), len(summary), len(full))
