"""Headline tables of method A or B (mean ± std across replicates): CSV, Markdown, HTML."""

import pandas as pd

from bayesprune.io import logged, write_csv, write_text
from bayesprune.labels import gate_text
from bayesprune.report_html import table_html
from bayesprune.tables import headline_method_a, headline_method_b, to_markdown

with logged(snakemake.log[0]) as log:
    if snakemake.params.method == "a":
        table = headline_method_a(
            pd.read_csv(snakemake.input.table), pd.read_csv(snakemake.input.unpruned)
        )
        title = "Method A: pruned MCMC (test error, mean ± std across runs)"
        note = (
            "Test RMSE (modelled scale) or test accuracy (%) of the network at the (masked) "
            "posterior mean: unpruned = deterministic network trained with Adam; full = full "
            "posterior; pruned = full posterior with the pruned parameters set to 0; resampled = "
            "MCMC of the pruned network; resampled (predictive) = posterior predictive mean after "
            "resampling. kept params of total params remain after pruning."
        )
    else:
        table = headline_method_b(pd.read_csv(snakemake.input.finals))
        s = snakemake.params.settings
        title = "Method B: Bayes-factor pruning during training (mean ± std across replicates)"
        note = (
            "Final test accuracy, sparsity of the prunable weights and kept parameters; "
            f"gate: {gate_text(s)}."
        )
    if snakemake.params.method == "a":
        full = pd.read_csv(snakemake.input.full)
        full_note = (
            "Test error (RMSE, modelled scale) or accuracy of the full posterior's mean network "
            "per chain (min, median, max over the replicate's chains), of the raw pooled mean "
            "and of the symmetry-aligned pooled mean, beside the pooled posterior predictive; "
            "parameter R-hat before and after alignment; n_modes = groups of chains whose "
            "predictions at the diagnostic test points differ beyond Monte Carlo error."
        )
        write_text(
            snakemake.output.full_html,
            table_html(full, "Method A: the full posterior's chains and modes", full_note),
        )
    write_csv(snakemake.output.csv, table)
    write_text(snakemake.output.md, f"{title}\n\n{to_markdown(table)}\n{note}\n")
    write_text(snakemake.output.html, table_html(table, title, note))
    log.info("%d rows", len(table))
