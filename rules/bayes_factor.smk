# Method B: train while pruning, each epoch's proposed step kept only when the Bayes factor
# between the pruned and unpruned network supports it; ungated and gradual baselines.

from bayesprune.layout import FIGURES_B_DIR, METHOD_B_DIR, TABLES_DIR, TRADEOFF_CSV


rule bf_train:
    input:
        unpack(gradual_target_input),
        npz=rules.prepare.output.npz,
        meta=rules.prepare.output.meta,
    output:
        history=f"{METHOD_B_DIR}/epochs.csv",
        final=f"{METHOD_B_DIR}/final.json",
    log:
        "results/logs/bf_train/{dataset}/rep{rep}/{method}.log",
    benchmark:
        "results/benchmarks/bf_train/{dataset}/rep{rep}/{method}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        network=dataset_network,
        settings=b_train_settings,
        seed=rep_seed("bayes_factor", keys=("dataset", "rep")),
        device=device,
    script:
        "../workflow_scripts/bf_train.py"


# Trade-off study: every gated variant of `method_b.tradeoff` against gradual and one-shot
# magnitude pruning at matched and fixed sparsities; one job per dataset and seed.


rule bf_tradeoff:
    input:
        # the study splits replicate 0 itself
        npz=expand(rules.prepare.output.npz, rep=0, allow_missing=True)[0],
        meta=expand(rules.prepare.output.meta, rep=0, allow_missing=True)[0],
    output:
        TRADEOFF_CSV,
    log:
        "results/logs/bf_tradeoff/{dataset}/seed{seed}.log",
    benchmark:
        "results/benchmarks/bf_tradeoff/{dataset}/seed{seed}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        network=dataset_network,
        settings=b_tradeoff_params,
        seed=b_tradeoff_seed,
        device=device,
    script:
        "../workflow_scripts/bf_tradeoff.py"


rule table_bf_tradeoff:
    input:
        expand(
            rules.bf_tradeoff.output[0],
            dataset=B_DATASETS,
            seed=range(METHOD_B["tradeoff"]["seeds"]),
        ),
    output:
        csv=f"{TABLES_DIR}/bayes_factor_tradeoff.csv",
        matched=f"{TABLES_DIR}/bayes_factor_tradeoff_matched.csv",
        md=f"{TABLES_DIR}/bayes_factor_tradeoff.md",
    log:
        "results/logs/tables/bayes_factor_tradeoff.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/bf_table_tradeoff.py"


rule plot_bf_tradeoff:
    input:
        rules.table_bf_tradeoff.output.csv,
    output:
        report(
            f"{FIGURES_B_DIR}/tradeoff.png",
            caption="../report/bf_tradeoff.rst",
            category="Method B",
            subcategory="{dataset}",
            labels={"figure": "5 accuracy vs compression"},
        ),
    log:
        "results/logs/plots/{dataset}/bf_tradeoff.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/bf_plot_tradeoff.py"
