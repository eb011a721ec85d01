# Stage 5 (method A): MCMC of the pruned network from the masked posterior mean; pruned
# coordinates stay exactly 0 in every proposal, gradient and MH ratio.


rule resample:
    input:
        unpack(split_files),
        posterior="results/method_a/{dataset}/rep{rep}/full/posterior.nc",
        mask="results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}/mask.json",
    output:
        posterior="results/method_a/{dataset}/rep{rep}/resampled/{criterion}/{rate}/posterior.nc",
        metrics="results/method_a/{dataset}/rep{rep}/resampled/{criterion}/{rate}/metrics.json",
        predictive="results/method_a/{dataset}/rep{rep}/resampled/{criterion}/{rate}/predictive.npz",
        diagnostics="results/method_a/{dataset}/rep{rep}/resampled/{criterion}/{rate}/diagnostics.json",
        param_table="results/method_a/{dataset}/rep{rep}/resampled/{criterion}/{rate}/params.csv",
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
