# The ablation (bayesprune.ablation): starting from this config and from `ablation.against`,
# one switch at a time takes its keys from the other config. `snakemake ablation` runs it:
# one job per start config and dataset (its cells share full posteriors where they sample
# alike), then the tables and the figure.

from bayesprune.layout import ABLATION_CSV, FIGURES_DIR, TABLES_DIR


rule ablation_run:
    input:
        unpack(raw_inputs),
    output:
        ABLATION_CSV,
    log:
        "results/logs/ablation/{start}/{dataset}.log",
    benchmark:
        "results/benchmarks/ablation/{start}/{dataset}.tsv"
    wildcard_constraints:
        start=_alternatives(ablation_starts()),
    conda:
        "../envs/bayesprune.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        cells=ablation_cells,
        replicates=ABLATION["replicates"],
    script:
        "../workflow_scripts/ablation_run.py"


rule ablation_table:
    input:
        expand(
            rules.ablation_run.output[0],
            start=ablation_starts(),
            dataset=ABLATION["datasets"],
        ),
    output:
        csv=f"{TABLES_DIR}/ablation.csv",
        summary=f"{TABLES_DIR}/ablation_summary.csv",
        effects=f"{TABLES_DIR}/ablation_effects.csv",
        md=f"{TABLES_DIR}/ablation.md",
    log:
        "results/logs/tables/ablation.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        grid=ablation_grid_params(),
        lengths=ablation_lengths(),
        labels=ablation_starts(),
    script:
        "../workflow_scripts/ablation_table.py"


rule ablation_figure:
    input:
        rules.ablation_table.output.effects,
    output:
        f"{FIGURES_DIR}/ablation.png",
    log:
        "results/logs/figures/ablation.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        labels=ablation_starts(),
    script:
        "../workflow_scripts/ablation_figure.py"
