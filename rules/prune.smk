# Stage 4 (method A): score every parameter from the full posterior's draws, prune at each
# (criterion, rate), evaluate the masked posterior, and trace a cheap pruning curve.

from bayesprune.layout import CURVE_CSV, PRUNED_DIR


rule prune:
    input:
        npz=rules.prepare.output.npz,
        meta=rules.prepare.output.meta,
        posterior=rules.sample.output.posterior,
        full_params=rules.sample.output.param_table,
    output:
        mask=f"{PRUNED_DIR}/mask.json",
        metrics=f"{PRUNED_DIR}/metrics.json",
        predictive=f"{PRUNED_DIR}/predictive.npz",
        diagnostics=f"{PRUNED_DIR}/diagnostics.json",
        param_table=f"{PRUNED_DIR}/params.csv",
        posterior=f"{PRUNED_DIR}/posterior.nc",
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
        npz=rules.prepare.output.npz,
        meta=rules.prepare.output.meta,
        posterior=rules.sample.output.posterior,
    output:
        CURVE_CSV,
    log:
        "results/logs/curve/{dataset}/rep{rep}.log",
    benchmark:
        "results/benchmarks/curve/{dataset}/rep{rep}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    resources:
        mem_mb=4000,
    params:
        criteria=A_CRITERIA,
        max_rate=max(METHOD_A["pruning"]["rates"], default=0.0),
        pruning=a_curve_params,
        seed=rep_seed("scores", keys=("dataset", "rep")),
    script:
        "../workflow_scripts/curve.py"
