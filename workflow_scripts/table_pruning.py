"""Gather full, pruned and resampled metrics + diagnostics into the pruning tables."""

from bayesprune.io import logged, write_csv, write_text
from bayesprune.tables import PRUNING_KEYS, pruning_table, stage_table, summarise, to_markdown

with logged(snakemake.log[0]) as log:
    inp, keys = snakemake.input, snakemake.params
    table = pruning_table(
        stage_table(inp.full, inp.full_diag, keys.full_keys, "full"),
        stage_table(inp.pruned, inp.pruned_diag, keys.stage_keys, "pruned"),
        stage_table(inp.resampled, inp.resampled_diag, keys.stage_keys, "resampled"),
    )
    summary = summarise(table, [k for k in PRUNING_KEYS if k != "rep"])
    write_csv(snakemake.output.csv, table)
    write_csv(snakemake.output.summary, summary)
    write_text(snakemake.output.md, to_markdown(summary))
    log.info("%d rows, %d summary rows", len(table), len(summary))
