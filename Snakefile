# bayesprune: Bayesian pruning of neural networks, two methods, one workflow.
#   Method A (arXiv 2501.06962): Langevin MCMC of a BNN -> prune by posterior scores ->
#   resample -> evaluate and diagnose every stage.
#   Method B (arXiv 2308.02451): prune during training, gated by Bayes factors.
# Run: snakemake --profile profiles/default   (see README.md; config keys in config/README.md)
# As a module of another workflow (the package installed in its environment):
#   module bayesprune: snakefile: "<this folder>/Snakefile"  config: config
#   use rule * from bayesprune as bp_*
# Snakemake runs only the host's own onstart/onsuccess/onerror; a host calls these with
# bayesprune.onstart(), bayesprune.onsuccess() and bayesprune.onerror() (tests/test_module.py).
from snakemake.utils import min_version

min_version("9.0")


# The embedded default applies only when no config is given: Snakemake would otherwise merge
# a --configfile (e.g. config/paper.yaml) into the default's datasets.
if "datasets" not in config:

    configfile: workflow.source_path("config/config.yaml")


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/sample.smk"
include: "rules/prune.smk"
include: "rules/resample.smk"
include: "rules/bayes_factor.smk"
include: "rules/tables.smk"
include: "rules/report.smk"
include: "rules/model_comparison.smk"
include: "rules/ablation.smk"


rule all:
    default_target: True
    input:
        all_targets(),


# The ablation of `ablation.against` against this config (rules/ablation.smk): its tables
# and figure. Not part of `all`.
rule ablation:
    input:
        rules.ablation_table.output.md,
        rules.ablation_figure.output[0],


# A finished MCMC job removes its checkpoint; drop the folders left empty (main process only,
# after every job has ended, so no running job is writing there).
onsuccess:
    from bayesprune.progress import remove_empty_dirs

    remove_empty_dirs("results/checkpoints")


onerror:
    from bayesprune.progress import remove_empty_dirs

    remove_empty_dirs("results/checkpoints")
