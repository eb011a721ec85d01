"""Method B: accuracy, sparsity, log Bayes factor per epoch and final accuracy vs sparsity."""

import pandas as pd

from bayesprune import plots_method_b as plots
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    epochs = pd.read_csv(snakemake.input.epochs)
    epochs = epochs[epochs["dataset"] == dataset]
    finals = pd.read_csv(snakemake.input.finals)
    finals = finals[finals["dataset"] == dataset]
    s = snakemake.params.settings
    gated = finals[finals["method"].str.startswith("bayes_")]
    n_eff = gated["effective_sample_size"].iloc[0] if len(gated) else None
    gate = plots.gate_text(s, n_eff)
    out = snakemake.output
    plots.save_figure(
        plots.bf_accuracy_figure(epochs, title=f"{dataset}: accuracy per epoch"), out.accuracy
    )
    plots.save_figure(
        plots.bf_sparsity_figure(epochs, title=f"{dataset}: sparsity per epoch\n{gate}"),
        out.sparsity,
    )
    plots.save_figure(
        plots.bf_log_bf_figure(
            epochs, snakemake.params.log_beta, title=f"{dataset}: Bayes-factor gate ({gate})"
        ),
        out.log_bf,
    )
    plots.save_figure(
        plots.bf_final_figure(finals, title=f"{dataset}: final test accuracy vs sparsity"),
        out.final,
    )
    log.info("%d epoch rows, %d final rows", len(epochs), len(finals))
