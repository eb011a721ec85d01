# Helpers of the plotting rules in report.smk (target list, inputs, params); kept apart from
# the rules as `snakemake --lint` asks. Uses the globals of common.smk.

import math

from snakemake.io import strip_wildcard_constraints

from bayesprune.config import derive_seed
from bayesprune.io import config_digest
from bayesprune.layout import FIGURES_A_DIR, FIGURES_B_DIR, FIGURES_DIR, TABLES_DIR

# ---------------------------------------------------------------- shown rates and runs


def a_task(dataset):
    return DATASETS[dataset]["task"]


def _nearest_rates(targets):
    """Configured rate labels nearest to each target rate (deduplicated, ascending)."""
    if not A_RATES:
        return []
    picked = {
        min(A_RATES, key=lambda r: (abs(float(r) - t), float(r))) for t in targets
    }
    return sorted(picked, key=float)


def showcase_rate():
    """The rate shown in the trace and classification figures: the configured rate nearest 0.5."""
    return _nearest_rates([0.5])[0]


def prediction_rates():
    """Rates of the predicted-vs-actual figure: the configured rates nearest 25, 50, 75%."""
    return _nearest_rates([0.25, 0.5, 0.75])


def first_rep(dataset):
    return next(iter(replicates(dataset)))


def shown_rate(wildcards):
    return float(showcase_rate())


def shown_rep(wildcards):
    return first_rep(wildcards.dataset)


def configured_rates(wildcards):
    return [float(r) for r in A_RATES]


def predicted_rates(wildcards):
    return [float(r) for r in prediction_rates()]


# ---------------------------------------------------------------- inputs


def plot_curve_inputs(wildcards):
    return {
        "curves": job_files(rules.curve.output[0], "full", dataset=wildcards.dataset),
        "unpruned": rules.table_unpruned.output.csv,
    }


def plot_stage_inputs(wildcards):
    return {
        "params": stage_files("param_table", wildcards.dataset),
        "diagnostics": stage_files("diagnostics", wildcards.dataset),
    }


def plot_prediction_inputs(wildcards):
    d, rep = wildcards.dataset, first_rep(wildcards.dataset)
    rates = prediction_rates()
    return {
        "full": job_file(rules.sample.output.predictive, dataset=d, rep=rep),
        "meta": job_file(rules.prepare.output.meta, dataset=d, rep=rep),
        "stages": stage_files("predictive", d, rep=rep, rate=rates),
    }


def plot_trace_inputs(wildcards):
    d, rep, rate = wildcards.dataset, first_rep(wildcards.dataset), showcase_rate()
    inputs = {
        "full": job_file(rules.sample.output.posterior, dataset=d, rep=rep),
        "full_params": job_file(rules.sample.output.param_table, dataset=d, rep=rep),
    }
    for c in A_CRITERIA:
        shown = {"dataset": d, "rep": rep, "criterion": c, "rate": rate}
        inputs[f"mask_{c}"] = job_file(rules.prune.output.mask, **shown)
        inputs[f"resampled_{c}"] = job_file(rules.resample.output.posterior, **shown)
    return inputs


def plot_classification_inputs(wildcards):
    d, rep, rate = wildcards.dataset, first_rep(wildcards.dataset), showcase_rate()
    inputs = {
        "npz": job_file(rules.prepare.output.npz, dataset=d, rep=rep),
        "meta": job_file(rules.prepare.output.meta, dataset=d, rep=rep),
        "full": job_file(rules.sample.output.predictive, dataset=d, rep=rep),
    }
    for c in A_CRITERIA:
        shown = {"dataset": d, "rep": rep, "criterion": c, "rate": rate}
        inputs[f"pruned_{c}"] = job_file(rules.prune.output.predictive, **shown)
        inputs[f"resampled_{c}"] = job_file(rules.resample.output.predictive, **shown)
    return inputs


def loo_inputs(wildcards):
    return stage_files("posterior", wildcards.dataset)


# ---------------------------------------------------------------- params


def per_criterion_figures(kind, caption, figure):
    """Named outputs ``{kind}_{criterion}``: one report figure per configured criterion."""
    return {
        f"{kind}_{c}": report(
            f"{FIGURES_A_DIR}/{kind}_{c}.png",
            caption=caption,
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": figure, "criterion": c},
        )
        for c in A_CRITERIA
    }


def forest_seed(wildcards):
    return derive_seed(
        SEED, "random_forest", wildcards.dataset, first_rep(wildcards.dataset)
    )


def log_beta(wildcards):
    return math.log(METHOD_B["beta"])


def b_gate_settings(wildcards):
    """The Bayes-factor gate's settings, as the figures and the headline table name them."""
    keys = ("rates", "beta", "likelihood_reduction", "likelihood_scale", "prior_sigma2")
    return {k: METHOD_B[k] for k in keys if k in METHOD_B}


def provenance_params(wildcards):
    """Config digest, the seeds every job used (from the rules' own seed functions) and
    source checksums for the report."""
    seeds = []
    for job in select(JOBS, "full").itertuples():
        w = {"dataset": job.dataset, "rep": str(job.rep)}
        seeds.append(
            {
                "method": "A",
                "dataset": job.dataset,
                "rep": job.rep,
                "train": rep_seed("train")(w),
                "sample": rep_seed("sample")(w),
                "scores": rep_seed("scores", keys=("dataset", "rep"))(w),
                "resample": {
                    f"{c}/{p}": rep_seed("resample")({**w, "criterion": c, "rate": p})
                    for c in A_CRITERIA
                    for p in A_RATES
                },
            }
        )
    for dataset in B_DATASETS:
        for rep in replicates(dataset):
            w = {"dataset": dataset, "rep": str(rep)}
            seeds.append(
                {
                    "method": "B",
                    "dataset": dataset,
                    "rep": rep,
                    "bayes_factor": rep_seed("bayes_factor", keys=("dataset", "rep"))(
                        w
                    ),
                }
            )
    return {
        "config_digest": config_digest(CFG),
        "seed": SEED,
        "seeds": seeds,
        "sources": {path: spec.get("sha256") for path, spec in RAW_FILES.items()},
        "config": CFG,
    }


# ---------------------------------------------------------------- targets


def _a_figures(dataset):
    """Method A's figures of a dataset (by the shown stages' task)."""
    out = [rules.plot_curves.output[0], rules.plot_stage_bars.output[0]]
    out.append(rules.loo.output.figure)
    if A_CRITERIA and A_RATES:
        out += [*rules.plot_convergence.output, *rules.plot_traces.output]
        if a_task(dataset) == "regression":
            out.append(rules.plot_predictions.output[0])
        else:
            out += list(rules.plot_classification.output)
    return expand(out, dataset=dataset)


def figure_job_outputs(method):
    """Outputs of the rules of this workflow that draw a figure job of `method` ("A" or "B")
    through workflow_scripts/figure.py: a rule of rules/report.smk whose params name a
    `figure` and its `method` is a target for every dataset of that method, nothing else to
    register. Read from the Rule objects, so it holds under `use rule * from ... as x_*`.
    """
    report_smk = str(WORKFLOW_DIR / "rules" / "report.smk")
    return [
        strip_wildcard_constraints(str(path))
        for job_rule in workflow.rules
        if str(job_rule.snakefile) == report_smk
        and job_rule.params.get("figure")
        and job_rule.params.get("method") == method
        for path in job_rule.output
    ]


def report_targets():
    """Every figure and headline table (and the provenance page) of the configured run."""
    out = [rules.provenance.output[0]]
    for d in A_DATASETS:
        out += _a_figures(d)
    out += expand(figure_job_outputs("A"), dataset=A_DATASETS)
    if A_DATASETS:
        out += [rules.table_headline_a.output[k] for k in ("csv", "md", "html")]
        out += list(rules.table_loo.output)
    b_figures = list(rules.plot_bayes_factor.output)
    if METHOD_B["tradeoff"]["seeds"]:
        b_figures += rules.plot_bf_tradeoff.output
    b_figures += figure_job_outputs("B")
    out += expand(b_figures, dataset=B_DATASETS)
    if B_DATASETS:
        out += [rules.table_headline_b.output[k] for k in ("csv", "md", "html")]
    return out


def table_targets():
    out = []
    if A_DATASETS:
        out += [rules.table_unpruned.output.csv, rules.table_pruning.output.csv]
        out += [rules.table_pruning.output.summary, rules.table_curves.output[0]]
    if B_DATASETS:
        out.append(rules.table_bayes_factor.output.csv)
        if METHOD_B["tradeoff"]["seeds"]:
            out.append(rules.table_bf_tradeoff.output.csv)
    return out


def all_targets():
    return table_targets() + report_targets()
