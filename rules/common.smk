"""Helpers shared by every rule: the validated config, target lists, params and seeds.

Rules call these functions (never lambdas); every hyperparameter a job uses reaches it
through `params:`, so a config change reruns exactly the jobs it affects.
"""

import os
import sys
from pathlib import Path

# The package lives beside this workflow; make it importable here and in every job (also in
# conda environments made by --sdm conda, and on cluster nodes that rerun snakemake).
_ROOT = str(Path(workflow.basedir).resolve())
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
_INHERITED = [
    p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != _ROOT
]
os.environ.update(PYTHONPATH=os.pathsep.join([_ROOT, *_INHERITED]))

from bayesprune.config import (
    ConfigError,
    apply_overrides,
    derive_seed,
    iter_raw_files,
    rate_label,
    load_config_file,
    validate_config,
)
from bayesprune.ablation import build_grid, cells_of
from snakemake.exceptions import WorkflowError

try:
    # --config values typed as YAML (`samples: 100` an integer, `null` None): see config/README.md
    CFG = validate_config(
        apply_overrides(config, workflow.config_settings.config),
        Path(workflow.basedir) / "config" / "schemas",
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None

DATASETS = CFG["datasets"]
A = CFG["method_a"]
B = CFG["method_b"]
A_DATASETS = A["datasets"]
B_DATASETS = B["datasets"]
CRITERIA = A["pruning"]["criteria"]
RATES = [rate_label(r) for r in A["pruning"]["rates"]]
B_METHODS = B["methods"]
SEED = CFG["seed"]
# The ablation's grid (bayesprune.ablation): empty unless `ablation.datasets` is set.
ABL = CFG["ablation"]


def _against_config(path):
    """`ablation.against` from the working directory, else beside the Snakefile."""
    for base in (Path.cwd(), Path(workflow.basedir)):
        if (base / path).is_file():
            return load_config_file(base / path)
    raise ConfigError(
        f"ablation.against: no file {path} in {Path.cwd()} or {workflow.basedir}"
    )


try:
    ABL_CELLS = build_grid(CFG, _against_config) if ABL["datasets"] else []
except ConfigError as err:
    raise WorkflowError(str(err)) from None
_RAW_NAMES = sorted(set(A_DATASETS + B_DATASETS + ABL["datasets"]))
RAW_FILES = {spec["path"]: spec for _, _, spec in iter_raw_files(CFG, _RAW_NAMES)}
# raw file path -> the datasets that use it (named in download errors)
RAW_DATASETS = {}
for _name, _, _spec in iter_raw_files(CFG, _RAW_NAMES):
    RAW_DATASETS.setdefault(_spec["path"], []).append(_name)


onstart:
    # The one cleaning of temp files: what killed jobs left of atomic writes (a download,
    # a checkpoint) goes when the next run starts; atomic_path does the same per file.
    remove_stale_temps_at_start()


def _alternatives(values):
    """A regex matching exactly the given values (wildcard constraints)."""
    import re

    return "|".join(re.escape(str(v)) for v in values) if values else "(?!x)x"


wildcard_constraints:
    dataset=_alternatives(sorted(DATASETS)),
    rep=r"\d+",
    seed=r"\d+",
    criterion=_alternatives(CRITERIA),
    rate=_alternatives(RATES),
    method=_alternatives(B_METHODS),
    rawpath=_alternatives(sorted(RAW_FILES)),


# ---------------------------------------------------------------- targets


def replicates(dataset):
    return range(DATASETS[dataset]["split"]["replicates"])


def a_runs():
    return [(d, r) for d in A_DATASETS for r in replicates(d)]


def b_runs():
    return [(d, r) for d in B_DATASETS for r in replicates(d)]


def unpruned_metrics_all():
    return [f"results/method_a/{d}/rep{r}/unpruned/metrics.json" for d, r in a_runs()]


def full_metrics_all():
    return [f"results/method_a/{d}/rep{r}/full/metrics.json" for d, r in a_runs()]


def full_diagnostics_all():
    return [f"results/method_a/{d}/rep{r}/full/diagnostics.json" for d, r in a_runs()]


def stage_files(stage, name):
    """Files of a pruned/resampled stage for every dataset, replicate, criterion and rate."""
    return [
        f"results/method_a/{d}/rep{r}/{stage}/{c}/{p}/{name}"
        for d, r in a_runs()
        for c in CRITERIA
        for p in RATES
    ]


def curves_all():
    return [f"results/method_a/{d}/rep{r}/curve.csv" for d, r in a_runs()]


def b_finals_all():
    return [
        f"results/method_b/{d}/rep{r}/{m}/final.json"
        for d, r in b_runs()
        for m in B_METHODS
    ]


def b_histories_all():
    return [
        f"results/method_b/{d}/rep{r}/{m}/epochs.csv"
        for d, r in b_runs()
        for m in B_METHODS
    ]


def unpruned_keys(wildcards=None):
    return [{"dataset": d, "rep": r} for d, r in a_runs()]


def stage_keys(wildcards=None):
    return [
        {"dataset": d, "rep": r, "criterion": c, "rate": float(p)}
        for d, r in a_runs()
        for c in CRITERIA
        for p in RATES
    ]


def b_keys(wildcards=None):
    return [
        {"dataset": d, "rep": r, "method": m} for d, r in b_runs() for m in B_METHODS
    ]


def table_targets():
    out = []
    if A_DATASETS:
        out += ["results/tables/unpruned.csv", "results/tables/pruning.csv"]
        out += [
            "results/tables/pruning_summary.csv",
            "results/tables/pruning_curves.csv",
        ]
    if B_DATASETS:
        out += ["results/tables/bayes_factor.csv"]
        if B["tradeoff"]["seeds"]:
            out += ["results/tables/bayes_factor_tradeoff.csv"]
    return out


def all_targets():
    return table_targets() + report_targets()


# ---------------------------------------------------------------- inputs


def raw_inputs(wildcards):
    """Files the prepare job of a dataset reads (nothing for scikit-learn bundled sets)."""
    source = DATASETS[wildcards.dataset]["source"]
    if source["kind"] == "url":
        # ancient(): a raw file's content is pinned by its sha256 (verified again by prepare),
        # so a re-download (e.g. after changing `mirror`) does not rerun everything downstream.
        return {
            role: ancient(f"data/raw/{spec['path']}")
            for role, spec in source["files"].items()
        }
    if source["kind"] == "local":
        return {role: spec["path"] for role, spec in source["files"].items()}
    return {}


def split_files(wildcards):
    base = f"data/processed/{wildcards.dataset}/rep{wildcards.rep}"
    return {"npz": f"{base}.npz", "meta": f"{base}.json"}


def gradual_target_input(wildcards):
    """Gradual magnitude pruning aims at the sparsity the Bayesian magnitude run reached."""
    if wildcards.method in ("gradual_magnitude", "oneshot_magnitude"):
        return {
            "reference": f"results/method_b/{wildcards.dataset}/rep{wildcards.rep}/bayes_magnitude/final.json"
        }
    return {}


# ---------------------------------------------------------------- params


def raw_file_spec(wildcards):
    return RAW_FILES[wildcards.rawpath]


def raw_file_datasets(wildcards):
    return ", ".join(RAW_DATASETS[wildcards.rawpath])


def remove_stale_temps_at_start():
    from bayesprune.io import remove_stale_temps

    for folder in ("data", "results"):
        if Path(folder).is_dir():
            for tmp in remove_stale_temps(folder):
                print(f"removed {tmp}, left by a killed job", file=sys.stderr)


def mirror_dir(wildcards):
    mirror = CFG["mirror"]
    return str(Path(mirror).resolve()) if mirror else None


def dataset_entry(wildcards):
    """A dataset entry as the prepare job uses it; the replicate count only decides which
    replicates exist, so changing it leaves existing replicates alone."""
    entry = dict(DATASETS[wildcards.dataset])
    entry["split"] = {k: v for k, v in entry["split"].items() if k != "replicates"}
    return entry


def dataset_network(wildcards):
    return DATASETS[wildcards.dataset]["network"]


def rep_seed(stage, keys=("dataset", "rep", "criterion", "rate", "method")):
    """A params function giving each job its own seed from the stage and its wildcards.

    `keys` picks the wildcards that enter the seed: pruning scores use only dataset and
    replicate, so RND masks nest across rates and match the pruning curve.
    """

    def seed(wildcards):
        values = [wildcards.get(k) for k in keys]
        return derive_seed(SEED, stage, *[v for v in values if v is not None])

    return seed


def a_train_params(wildcards):
    return A["train"]


def a_prior_params(wildcards):
    return A["prior"]


def a_sampler_params(wildcards):
    return A["sampler"]


def a_likelihood_params(wildcards):
    return A["likelihood"]["classification"]


def a_evaluation_params(wildcards):
    return A["evaluation"]


def a_resample_params(wildcards):
    return A["resample"]


def a_mask_params(wildcards):
    """What shapes a mask (criterion and rate come from the wildcards)."""
    return {k: A["pruning"][k] for k in ("unit", "scope", "include_biases", "rnd")}


def a_curve_params(wildcards):
    return {
        k: A["pruning"][k] for k in ("unit", "scope", "include_biases", "curve_points")
    }


def a_diagnostic_params(wildcards):
    return A["diagnostics"]


def b_params(wildcards):
    return {k: v for k, v in B.items() if k not in ("datasets", "methods", "tradeoff")}


def b_tradeoff_params(wildcards):
    grid = {k: v for k, v in B["tradeoff"].items() if k != "seeds"}
    return {"train": B["train"], "grid": grid}


def b_tradeoff_seed(wildcards):
    return derive_seed(SEED, "tradeoff", wildcards.dataset, wildcards.seed)


def b_tradeoff_all(dataset=None):
    """Every trade-off study file (one per dataset and seed), or those of one dataset."""
    names = B_DATASETS if dataset is None else [dataset]
    return [
        f"results/method_b/{d}/tradeoff/seed{s}.csv"
        for d in names
        for s in range(B["tradeoff"]["seeds"])
    ]


def b_tradeoff_dataset_files(wildcards):
    return b_tradeoff_all(wildcards.dataset)


def device(wildcards):
    return CFG["device"]


# ---------------------------------------------------------------- the ablation


def ablation_starts():
    return list(dict.fromkeys(c.start for c in ABL_CELLS))


def ablation_files():
    return [
        f"results/ablation/{s}/{d}.csv"
        for s in ablation_starts()
        for d in ABL["datasets"]
    ]


def ablation_cells(wildcards):
    return cells_of(ABL_CELLS, wildcards.start, wildcards.dataset)


def ablation_grid_params(wildcards=None):
    """The grid as the table shows it: every cell, its changed keys, or why it is skipped."""
    return [
        {
            "start": c.start,
            "switch": c.switch,
            "applicable": c.applicable,
            "reason": c.reason,
            "changed": list(c.changed),
        }
        for c in ABL_CELLS
    ]


def ablation_lengths(wildcards=None):
    return {
        k: ABL[k] for k in ("samples", "kept_draws", "resample_fraction", "replicates")
    }
