# Stage 1: get every raw file (mirror first, then its URL; sha256 verified) and cut one
# train/test split per dataset and replicate, scalers fitted on training rows only.


localrules:
    download,


rule download:
    output:
        "data/raw/{rawpath}",
    params:
        spec=raw_file_spec,
        mirror=mirror_dir,
    conda:
        "../envs/bayesprune.yaml"
    log:
        "results/logs/download/{rawpath}.log",
    retries: 2
    script:
        "../workflow_scripts/download.py"


rule prepare:
    input:
        unpack(raw_inputs),
    output:
        npz="data/processed/{dataset}/rep{rep}.npz",
        meta="data/processed/{dataset}/rep{rep}.json",
    params:
        entry=dataset_entry,
    conda:
        "../envs/bayesprune.yaml"
    log:
        "results/logs/prepare/{dataset}/rep{rep}.log",
    resources:
        mem_mb=2000,
    script:
        "../workflow_scripts/prepare.py"
