# Stage 2 (method A): the unpruned deterministic network, trained with Adam. MCMC may start
# from it (sampler.init: map) and every pruned network is compared against it.

from bayesprune.layout import UNPRUNED_DIR


rule train_unpruned:
    input:
        npz=rules.prepare.output.npz,
        meta=rules.prepare.output.meta,
    output:
        model=f"{UNPRUNED_DIR}/model.npz",
        metrics=f"{UNPRUNED_DIR}/metrics.json",
    log:
        "results/logs/train_unpruned/{dataset}/rep{rep}.log",
    benchmark:
        "results/benchmarks/train_unpruned/{dataset}/rep{rep}.tsv"
    conda:
        "../envs/bayesprune.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        network=dataset_network,
        train=a_train_params,
        seed=rep_seed("train"),
        device=device,
    script:
        "../workflow_scripts/train_unpruned.py"
