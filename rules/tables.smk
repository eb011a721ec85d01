# Summary tables (CSV + Markdown) gathered from every job's metrics; each file's keys come
# from its path (bayesprune.layout.keys_of).

from bayesprune.layout import TABLES_DIR


rule table_unpruned:
    input:
        job_files(rules.train_unpruned.output.metrics, "unpruned"),
    output:
        csv=f"{TABLES_DIR}/unpruned.csv",
        md=f"{TABLES_DIR}/unpruned.md",
    log:
        "results/logs/tables/unpruned.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/table_unpruned.py"


rule table_pruning:
    input:
        full=job_files(rules.sample.output.metrics, "full"),
        full_diag=job_files(rules.sample.output.diagnostics, "full"),
        pruned=job_files(rules.prune.output.metrics, "pruned"),
        pruned_diag=job_files(rules.prune.output.diagnostics, "pruned"),
        resampled=job_files(rules.resample.output.metrics, "resampled"),
        resampled_diag=job_files(rules.resample.output.diagnostics, "resampled"),
    output:
        csv=f"{TABLES_DIR}/pruning.csv",
        summary=f"{TABLES_DIR}/pruning_summary.csv",
        md=f"{TABLES_DIR}/pruning_summary.md",
        full_csv=f"{TABLES_DIR}/full_posterior.csv",
        full_md=f"{TABLES_DIR}/full_posterior.md",
    log:
        "results/logs/tables/pruning.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        unit=METHOD_A["pruning"]["unit"],
    script:
        "../workflow_scripts/table_pruning.py"


rule table_curves:
    input:
        job_files(rules.curve.output[0], "full"),
    output:
        f"{TABLES_DIR}/pruning_curves.csv",
    log:
        "results/logs/tables/curves.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/table_curves.py"


rule table_bayes_factor:
    input:
        finals=job_files(rules.bf_train.output.final, "method_b"),
        histories=job_files(rules.bf_train.output.history, "method_b"),
    output:
        csv=f"{TABLES_DIR}/bayes_factor.csv",
        epochs=f"{TABLES_DIR}/bayes_factor_epochs.csv",
        md=f"{TABLES_DIR}/bayes_factor.md",
    log:
        "results/logs/tables/bayes_factor.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/table_bayes_factor.py"
