# Stage 1: get every raw file (mirror first, then its URL; sha256 verified) and cut one
# train/test split per dataset and replicate, scalers fitted on training rows only.

from bayesprune.layout import SPLIT_BASE


localrules:
    download,


rule download:
    output:
        "data/raw/{rawpath}",
    log:
        "results/logs/download/{rawpath}.log",
    # Never retried as a job, whatever a profile's `retries`: fetch() retries transient
    # failures itself; a checksum mismatch or an HTTP 4xx is deterministic and fails at once.
    retries: 0
    conda:
        "../envs/bayesprune.yaml"
    params:
        spec=raw_file_spec,
        mirror=mirror_dir,
        datasets=raw_file_datasets,
    script:
        "../workflow_scripts/download.py"


rule prepare:
    input:
        unpack(raw_inputs),
    output:
        npz=f"{SPLIT_BASE}.npz",
        meta=f"{SPLIT_BASE}.json",
    log:
        "results/logs/prepare/{dataset}/rep{rep}.log",
    conda:
        "../envs/bayesprune.yaml"
    resources:
        mem_mb=2000,
    params:
        entry=dataset_entry,
    script:
        "../workflow_scripts/prepare.py"
