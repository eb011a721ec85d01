# Method B: train while pruning, each epoch's proposed step kept only when the Bayes factor
# between the pruned and unpruned network supports it; ungated and gradual baselines.


rule bf_train:
    input:
        unpack(split_files),
        unpack(gradual_target_input),
    output:
        history="results/method_b/{dataset}/rep{rep}/{method}/epochs.csv",
        final="results/method_b/{dataset}/rep{rep}/{method}/final.json",
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
        settings=b_params,
        seed=rep_seed("bayes_factor", keys=("dataset", "rep")),
        device=device,
    script:
        "../workflow_scripts/bf_train.py"


# Trade-off study: every gated variant of `method_b.tradeoff` against gradual and one-shot
# magnitude pruning at matched and fixed sparsities; one job per dataset and seed.


rule bf_tradeoff:
    input:
        npz="data/processed/{dataset}/rep0.npz",
        meta="data/processed/{dataset}/rep0.json",
    output:
        "results/method_b/{dataset}/tradeoff/seed{seed}.csv",
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
        b_tradeoff_all(),
    output:
        csv="results/tables/bayes_factor_tradeoff.csv",
        matched="results/tables/bayes_factor_tradeoff_matched.csv",
        md="results/tables/bayes_factor_tradeoff.md",
    log:
        "results/logs/tables/bayes_factor_tradeoff.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/bf_table_tradeoff.py"


rule plot_bf_tradeoff:
    input:
        "results/tables/bayes_factor_tradeoff.csv",
    output:
        report(
            "results/figures/method_b/{dataset}/tradeoff.png",
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
