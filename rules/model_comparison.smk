# PSIS-LOO model comparison of method A's stages (bayesprune/model_comparison.py): one job
# per dataset scores every stage's posterior.nc (full, pruned, resampled; every replicate),
# writes its table and figure; table_loo gathers the datasets.

from bayesprune.layout import FIGURES_A_DIR, LOO_CSV, TABLES_DIR


rule loo:
    input:
        loo_inputs,
    output:
        table=LOO_CSV,
        compare=f"{TABLES_DIR}/loo/{{dataset}}_compare.csv",
        figure=report(
            f"{FIGURES_A_DIR}/loo.png",
            caption="../report/loo.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "0 LOO model comparison", "criterion": "all"},
        ),
    log:
        "results/logs/loo/{dataset}.log",
    conda:
        "../envs/bayesprune.yaml"
    resources:
        mem_mb=4000,
    script:
        "../workflow_scripts/loo.py"


rule table_loo:
    input:
        expand(rules.loo.output.table, dataset=A_DATASETS),
    output:
        csv=f"{TABLES_DIR}/loo.csv",
        md=f"{TABLES_DIR}/loo.md",
    log:
        "results/logs/tables/loo.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/table_loo.py"
