# Stage 3 (method A): Langevin-gradient MCMC of the full BNN posterior, K chains batched.
# Long runs checkpoint every `sampler.checkpoint_every` iterations and resume after a kill.

from bayesprune.layout import FULL_DIR


rule sample:
    input:
        npz=rules.prepare.output.npz,
        meta=rules.prepare.output.meta,
        model=rules.train_unpruned.output.model,
    output:
        posterior=f"{FULL_DIR}/posterior.nc",
        metrics=f"{FULL_DIR}/metrics.json",
        predictive=f"{FULL_DIR}/predictive.npz",
        diagnostics=f"{FULL_DIR}/diagnostics.json",
        param_table=f"{FULL_DIR}/params.csv",
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
