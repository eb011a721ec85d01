"""Method B: accuracy, sparsity, log Bayes factor per epoch and final accuracy vs sparsity."""

import pandas as pd

from bayesprune.figures import method_b
from bayesprune.figures.style import save_figure
from bayesprune.io import logged
from bayesprune.labels import gate_text

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    epochs = pd.read_csv(snakemake.input.epochs)
    epochs = epochs[epochs["dataset"] == dataset]
    finals = pd.read_csv(snakemake.input.finals)
    finals = finals[finals["dataset"] == dataset]
    s = snakemake.params.settings
    gated = finals[finals["method"].str.startswith("bayes_")]
    n_eff = gated["effective_sample_size"].iloc[0] if len(gated) else None
    gate = gate_text(s, n_eff)
    out = snakemake.output
    save_figure(
        method_b.bf_accuracy_figure(epochs, title=f"{dataset}: accuracy per epoch"), out.accuracy
    )
    save_figure(
        method_b.bf_sparsity_figure(epochs, title=f"{dataset}: sparsity per epoch\n{gate}"),
        out.sparsity,
    )
    save_figure(
        method_b.bf_log_bf_figure(
            epochs, snakemake.params.log_beta, title=f"{dataset}: Bayes-factor gate ({gate})"
        ),
        out.log_bf,
    )
    save_figure(
        method_b.bf_final_figure(finals, title=f"{dataset}: final test accuracy vs sparsity"),
        out.final,
    )
    log.info("%d epoch rows, %d final rows", len(epochs), len(finals))
