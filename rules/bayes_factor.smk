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
