# Stage 5 (method A): MCMC of the pruned network from the masked posterior mean; pruned
# coordinates stay exactly 0 in every proposal, gradient and MH ratio.

from bayesprune.layout import RESAMPLED_DIR


rule resample:
    input:
        npz=rules.prepare.output.npz,
        meta=rules.prepare.output.meta,
        posterior=rules.sample.output.posterior,
        mask=rules.prune.output.mask,
    output:
        posterior=f"{RESAMPLED_DIR}/posterior.nc",
        metrics=f"{RESAMPLED_DIR}/metrics.json",
        predictive=f"{RESAMPLED_DIR}/predictive.npz",
        diagnostics=f"{RESAMPLED_DIR}/diagnostics.json",
        param_table=f"{RESAMPLED_DIR}/params.csv",
    log:
        "results/logs/resample/{dataset}/rep{rep}/{criterion}_{rate}.log",
    benchmark:
        "results/benchmarks/resample/{dataset}/rep{rep}/{criterion}_{rate}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampler=a_resample_params,
        prior=a_prior_params,
        likelihood=a_likelihood_params,
        evaluation=a_evaluation_params,
        evaluation_seed=rep_seed("evaluation", keys=("dataset", "rep")),
        seed=rep_seed("resample"),
        diagnostics=a_diagnostic_params,
        checkpoint="results/checkpoints/{dataset}/rep{rep}/resampled_{criterion}_{rate}.pt",
    script:
        "../workflow_scripts/resample.py"
