# Stage 3 (method A): Langevin-gradient MCMC of the full BNN posterior, K chains batched.
# Long runs checkpoint every `sampler.checkpoint_every` iterations and resume after a kill.


rule sample:
    input:
        unpack(split_files),
        model="results/method_a/{dataset}/rep{rep}/unpruned/model.npz",
    output:
        posterior="results/method_a/{dataset}/rep{rep}/full/posterior.nc",
        metrics="results/method_a/{dataset}/rep{rep}/full/metrics.json",
        predictive="results/method_a/{dataset}/rep{rep}/full/predictive.npz",
        diagnostics="results/method_a/{dataset}/rep{rep}/full/diagnostics.json",
        param_table="results/method_a/{dataset}/rep{rep}/full/params.csv",
    log:
        "results/logs/sample/{dataset}/rep{rep}.log",
    benchmark:
        "results/benchmarks/sample/{dataset}/rep{rep}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        network=dataset_network,
        sampler=a_sampler_params,
        prior=a_prior_params,
        likelihood=a_likelihood_params,
        diagnostics=a_diagnostic_params,
        seed=rep_seed("sample"),
        checkpoint="results/checkpoints/{dataset}/rep{rep}/full.pt",
    script:
        "../workflow_scripts/sample.py"
