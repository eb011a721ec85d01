# PSIS-LOO model comparison of method A's stages (bayesprune/model_comparison.py): one job
# per dataset scores every stage's posterior.nc (full, pruned, resampled; every replicate),
# writes its table and figure; table_loo gathers the datasets.


rule loo:
    input:
        loo_inputs,
    output:
        table="results/tables/loo/{dataset}.csv",
        compare="results/tables/loo/{dataset}_compare.csv",
        figure=report(
            f"{FIGURES}/method_a/{{dataset}}/loo.png",
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
    params:
        stage_keys=loo_keys,
    script:
        "../workflow_scripts/loo.py"


rule table_loo:
    input:
        loo_tables_all(),
    output:
        csv="results/tables/loo.csv",
        md="results/tables/loo.md",
    log:
        "results/logs/tables/loo.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/table_loo.py"
