# Summary tables (CSV + Markdown) gathered from every job's metrics.


rule table_unpruned:
    input:
        unpruned_metrics_all(),
    output:
        csv="results/tables/unpruned.csv",
        md="results/tables/unpruned.md",
    log:
        "results/logs/tables/unpruned.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        rows=unpruned_keys(),
    script:
        "../workflow_scripts/table_unpruned.py"


rule table_pruning:
    input:
        full=full_metrics_all(),
        full_diag=full_diagnostics_all(),
        pruned=stage_files("pruned", "metrics.json"),
        pruned_diag=stage_files("pruned", "diagnostics.json"),
        resampled=stage_files("resampled", "metrics.json"),
        resampled_diag=stage_files("resampled", "diagnostics.json"),
    output:
        csv="results/tables/pruning.csv",
        summary="results/tables/pruning_summary.csv",
        md="results/tables/pruning_summary.md",
        full_csv="results/tables/full_posterior.csv",
        full_md="results/tables/full_posterior.md",
    log:
        "results/logs/tables/pruning.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        full_keys=unpruned_keys(),
        stage_keys=stage_keys(),
        unit=A["pruning"]["unit"],
    script:
        "../workflow_scripts/table_pruning.py"


rule table_curves:
    input:
        curves_all(),
    output:
        "results/tables/pruning_curves.csv",
    log:
        "results/logs/tables/curves.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        rows=unpruned_keys(),
    script:
        "../workflow_scripts/table_curves.py"


rule table_bayes_factor:
    input:
        finals=b_finals_all(),
        histories=b_histories_all(),
    output:
        csv="results/tables/bayes_factor.csv",
        epochs="results/tables/bayes_factor_epochs.csv",
        md="results/tables/bayes_factor.md",
    log:
        "results/logs/tables/bayes_factor.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        rows=b_keys(),
    script:
        "../workflow_scripts/table_bayes_factor.py"
