"""The validated config, the job table and the params every rule shares.

What a gathering rule reads comes from the job table (bayesprune.layout.job_table) through
`job_files`/`stage_files`, as the producing rules' outputs; every hyperparameter a job uses
reaches it through `params:`, so a config change reruns exactly the jobs it affects. Rules
call these functions (never lambdas).
"""

import re
from pathlib import Path

from snakemake.exceptions import WorkflowError

from bayesprune.ablation import build_grid, cells_of
from bayesprune.config import (
    ConfigError,
    apply_overrides,
    derive_seed,
    iter_raw_files,
    load_config_file,
    rate_label,
    validate_config,
)
from bayesprune.layout import job_table, select

#: this workflow's folder (also when another workflow loads it as a module)
WORKFLOW_DIR = Path(workflow.current_basedir).parent

try:
    # --config values typed as YAML (`samples: 100` an integer, `null` None): see config/README.md
    CFG = validate_config(apply_overrides(config, workflow.config_settings.config))
except ConfigError as err:
    raise WorkflowError(str(err)) from None

DATASETS = CFG["datasets"]
METHOD_A = CFG["method_a"]
METHOD_B = CFG["method_b"]
A_DATASETS = METHOD_A["datasets"]
A_CRITERIA = METHOD_A["pruning"]["criteria"]
A_RATES = [rate_label(r) for r in METHOD_A["pruning"]["rates"]]
B_DATASETS = METHOD_B["datasets"]
B_METHODS = METHOD_B["methods"]
SEED = CFG["seed"]
#: one row per job of the producing rules (stage, dataset, rep, criterion, rate, method)
JOBS = job_table(CFG)
# The ablation's grid (bayesprune.ablation): empty unless `ablation.datasets` is set.
ABLATION = CFG["ablation"]


def _against_config(path):
    """`ablation.against` from the working directory, else beside the Snakefile."""
    for base in (Path.cwd(), WORKFLOW_DIR):
        if (base / path).is_file():
            return load_config_file(base / path)
    raise ConfigError(
        f"ablation.against: no file {path} in {Path.cwd()} or {WORKFLOW_DIR}"
    )


try:
    ABLATION_CELLS = build_grid(CFG, _against_config) if ABLATION["datasets"] else []
except ConfigError as err:
    raise WorkflowError(str(err)) from None
_RAW_NAMES = sorted(set(A_DATASETS + B_DATASETS + ABLATION["datasets"]))
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
    return "|".join(re.escape(str(v)) for v in values) if values else "(?!x)x"


wildcard_constraints:
    dataset=_alternatives(sorted(DATASETS)),
    rep=r"\d+",
    seed=r"\d+",
    criterion=_alternatives(A_CRITERIA),
    rate=_alternatives(A_RATES),
    method=_alternatives(B_METHODS),
    rawpath=_alternatives(sorted(RAW_FILES)),


# ---------------------------------------------------------------- the job table


def job_files(output, stage, **where):
    """`output` (a rule's output, e.g. rules.prune.output.metrics) of every job of `stage`
    (or stages) in the job table whose keys match `where`, in table order."""
    jobs = select(JOBS, stage, **where)
    keys = {k: jobs[k].tolist() for k in re.findall(r"\{(\w+)", str(output))}
    return expand(output, zip, **keys)


def of_dataset(output, stage):
    """An input function for a per-dataset rule: `output` of every job of `stage` of the
    job's dataset, in table order (e.g. a figure job's inputs)."""

    def files(wildcards):
        return job_files(output, stage, dataset=wildcards.dataset)

    return files


def job_file(output, **keys):
    """`output` (a rule's output) of the one job with these keys."""
    (path,) = expand(output, **keys)
    return path


#: the rule whose job writes each method-A posterior stage's folder
POSTERIOR_STAGE_RULES = {"full": "sample", "pruned": "prune", "resampled": "resample"}


def stage_files(name, dataset, **where):
    """Output `name` (e.g. "posterior") of every posterior stage of a dataset whose keys
    match `where`, in table order: per replicate the full posterior, then every criterion
    and rate, pruned before resampled."""
    jobs = select(JOBS, tuple(POSTERIOR_STAGE_RULES), dataset=dataset, **where)
    return [
        job_file(
            getattr(rules, POSTERIOR_STAGE_RULES[job.stage]).output[name],
            **{k: v for k, v in job._asdict().items() if v is not None},
        )
        for job in jobs.itertuples(index=False)
    ]


def replicates(dataset):
    return range(DATASETS[dataset]["split"]["replicates"])


# ---------------------------------------------------------------- inputs


def raw_inputs(wildcards):
    """Files the prepare job of a dataset reads (nothing for scikit-learn bundled sets)."""
    source = DATASETS[wildcards.dataset]["source"]
    if source["kind"] == "url":
        # ancient(): a raw file's content is pinned by its sha256 (verified again by prepare),
        # so a re-download (e.g. after changing `mirror`) does not rerun everything downstream.
        return {
            role: ancient(expand(rules.download.output[0], rawpath=spec["path"])[0])
            for role, spec in source["files"].items()
        }
    if source["kind"] == "local":
        return {role: spec["path"] for role, spec in source["files"].items()}
    return {}


def gradual_target_input(wildcards):
    """Gradual magnitude pruning aims at the sparsity the Bayesian magnitude run reached."""
    if wildcards.method in ("gradual_magnitude", "oneshot_magnitude"):
        final = rules.bf_train.output.final
        ref = expand(
            final,
            dataset=wildcards.dataset,
            rep=wildcards.rep,
            method="bayes_magnitude",
        )
        return {"reference": ref[0]}
    return {}


# ---------------------------------------------------------------- params


def raw_file_spec(wildcards):
    return RAW_FILES[wildcards.rawpath]


def raw_file_datasets(wildcards):
    return ", ".join(RAW_DATASETS[wildcards.rawpath])


def remove_stale_temps_at_start():
    import sys

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
    return METHOD_A["train"]


def a_prior_params(wildcards):
    return METHOD_A["prior"]


def a_sampler_params(wildcards):
    return METHOD_A["sampler"]


def a_likelihood_params(wildcards):
    return METHOD_A["likelihood"]["classification"]


def a_evaluation_params(wildcards):
    return METHOD_A["evaluation"]


def a_resample_params(wildcards):
    return METHOD_A["resample"]


def a_mask_params(wildcards):
    """What shapes a mask (criterion and rate come from the wildcards)."""
    return {
        k: METHOD_A["pruning"][k] for k in ("unit", "scope", "include_biases", "rnd")
    }


def a_curve_params(wildcards):
    keys = ("unit", "scope", "include_biases", "curve_points")
    return {k: METHOD_A["pruning"][k] for k in keys}


def a_diagnostic_params(wildcards):
    return METHOD_A["diagnostics"]


def b_train_settings(wildcards):
    """What a method-B training run uses: every `method_b` key but the grid's."""
    grid = ("datasets", "methods", "tradeoff")
    return {k: v for k, v in METHOD_B.items() if k not in grid}


def b_tradeoff_params(wildcards):
    grid = {k: v for k, v in METHOD_B["tradeoff"].items() if k != "seeds"}
    return {"train": METHOD_B["train"], "grid": grid}


def b_tradeoff_seed(wildcards):
    return derive_seed(SEED, "tradeoff", wildcards.dataset, wildcards.seed)


def device(wildcards):
    return CFG["device"]


# ---------------------------------------------------------------- the ablation


def ablation_starts():
    return list(dict.fromkeys(c.start for c in ABLATION_CELLS))


def ablation_cells(wildcards):
    return cells_of(ABLATION_CELLS, wildcards.start, wildcards.dataset)


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
        for c in ABLATION_CELLS
    ]


def ablation_lengths(wildcards=None):
    keys = ("samples", "kept_draws", "resample_fraction", "replicates")
    return {k: ABLATION[k] for k in keys}
