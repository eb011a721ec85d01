# Stage 4 (method A): score every parameter from the full posterior's draws, prune at each
# (criterion, rate), evaluate the masked posterior, and trace a cheap pruning curve.


rule prune:
    input:
        unpack(split_files),
        posterior="results/method_a/{dataset}/rep{rep}/full/posterior.nc",
        full_params="results/method_a/{dataset}/rep{rep}/full/params.csv",
    output:
        mask="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/mask.json",
        metrics="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/metrics.json",
        predictive="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/predictive.npz",
        diagnostics="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/diagnostics.json",
        param_table="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/params.csv",
        posterior="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/posterior.nc",
    log:
        "results/logs/prune/{dataset}/rep{rep}/{criterion}_{rate}.log",
    benchmark:
        "results/benchmarks/prune/{dataset}/rep{rep}/{criterion}_{rate}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    resources:
        mem_mb=4000,
    params:
        prior=a_prior_params,
        pruning=a_mask_params,
        seed=rep_seed("scores", keys=("dataset", "rep")),
        evaluation=a_evaluation_params,
        evaluation_seed=rep_seed("evaluation", keys=("dataset", "rep")),
        diagnostics=a_diagnostic_params,
    script:
        "../workflow_scripts/prune.py"


rule curve:
    input:
        unpack(split_files),
        posterior="results/method_a/{dataset}/rep{rep}/full/posterior.nc",
    output:
        "results/method_a/{dataset}/rep{rep}/curve.csv",
    log:
        "results/logs/curve/{dataset}/rep{rep}.log",
    benchmark:
        "results/benchmarks/curve/{dataset}/rep{rep}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    resources:
        mem_mb=4000,
    params:
        criteria=CRITERIA,
        max_rate=max(A["pruning"]["rates"]) if A["pruning"]["rates"] else 0.0,
        pruning=a_curve_params,
        seed=rep_seed("scores", keys=("dataset", "rep")),
    script:
        "../workflow_scripts/curve.py"
