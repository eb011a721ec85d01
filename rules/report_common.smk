# Helpers of the plotting rules in report.smk (target list, inputs, params); kept apart from
# the rules as `snakemake --lint` asks. Uses the globals of common.smk.

import math

from bayesprune.config import derive_seed
from bayesprune.io import config_digest

FIGURES = "results/figures"


# ---------------------------------------------------------------- helpers


def a_task(dataset):
    return DATASETS[dataset]["task"]


def _nearest_rates(targets):
    """Configured rate labels nearest to each target rate (deduplicated, ascending)."""
    if not RATES:
        return []
    picked = {min(RATES, key=lambda r: (abs(float(r) - t), float(r))) for t in targets}
    return sorted(picked, key=float)


def showcase_rate():
    """The rate shown in the trace and classification figures: the configured rate nearest 0.5."""
    return _nearest_rates([0.5])[0]


def prediction_rates():
    """Rates of the predicted-vs-actual figure: the configured rates nearest 25, 50, 75%."""
    return _nearest_rates([0.25, 0.5, 0.75])


def first_rep(dataset):
    return next(iter(replicates(dataset)))


def _a_base(dataset, rep):
    return f"results/method_a/{dataset}/rep{rep}"


def _stage_keys(dataset):
    """[stage, criterion, rate, rep] of every stage of a dataset (full first)."""
    keys = []
    for r in replicates(dataset):
        keys.append(["full", "none", 0.0, r])
        keys += [
            [s, c, float(p), r]
            for c in CRITERIA
            for p in RATES
            for s in ("pruned", "resampled")
        ]
    return keys


def _stage_dir(dataset, key):
    stage, crit, rate, rep = key
    base = _a_base(dataset, rep)
    return f"{base}/full" if stage == "full" else f"{base}/{stage}/{crit}/{rate:g}"


def plot_curve_inputs(wildcards):
    return {
        "curves": [
            f"{_a_base(wildcards.dataset, r)}/curve.csv"
            for r in replicates(wildcards.dataset)
        ],
        "unpruned": "results/tables/unpruned.csv",
    }


def plot_curve_reps(wildcards):
    return list(replicates(wildcards.dataset))


def plot_stage_keys(wildcards):
    return _stage_keys(wildcards.dataset)


def plot_stage_inputs(wildcards):
    keys = _stage_keys(wildcards.dataset)
    return {
        "params": [f"{_stage_dir(wildcards.dataset, k)}/params.csv" for k in keys],
        "diagnostics": [
            f"{_stage_dir(wildcards.dataset, k)}/diagnostics.json" for k in keys
        ],
    }


def plot_prediction_keys(wildcards):
    rep = first_rep(wildcards.dataset)
    return [
        [s, c, float(p), rep]
        for c in CRITERIA
        for p in prediction_rates()
        for s in ("pruned", "resampled")
    ]


def plot_prediction_inputs(wildcards):
    d = wildcards.dataset
    rep = first_rep(d)
    keys = plot_prediction_keys(wildcards)
    return {
        "full": f"{_a_base(d, rep)}/full/predictive.npz",
        "meta": f"data/processed/{d}/rep{rep}.json",
        "stages": [f"{_stage_dir(d, k)}/predictive.npz" for k in keys],
    }


def per_criterion_figures(kind, caption, figure):
    """Named outputs ``{kind}_{criterion}``: one report figure per configured criterion."""
    return {
        f"{kind}_{c}": report(
            f"{FIGURES}/method_a/{{dataset}}/{kind}_{c}.png",
            caption=caption,
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": figure, "criterion": c},
        )
        for c in CRITERIA
    }


def plot_trace_inputs(wildcards):
    base = _a_base(wildcards.dataset, first_rep(wildcards.dataset))
    shown = f"{showcase_rate()}"
    inputs = {
        "full": f"{base}/full/posterior.nc",
        "full_params": f"{base}/full/params.csv",
    }
    for c in CRITERIA:
        inputs[f"mask_{c}"] = f"{base}/pruned/{c}/{shown}/mask.json"
        inputs[f"resampled_{c}"] = f"{base}/resampled/{c}/{shown}/posterior.nc"
    return inputs


def plot_classification_inputs(wildcards):
    d = wildcards.dataset
    rep = first_rep(d)
    base = _a_base(d, rep)
    shown = f"{showcase_rate()}"
    inputs = {
        "npz": f"data/processed/{d}/rep{rep}.npz",
        "meta": f"data/processed/{d}/rep{rep}.json",
        "full": f"{base}/full/predictive.npz",
    }
    for c in CRITERIA:
        inputs[f"pruned_{c}"] = f"{base}/pruned/{c}/{shown}/predictive.npz"
        inputs[f"resampled_{c}"] = f"{base}/resampled/{c}/{shown}/predictive.npz"
    return inputs


def forest_seed(wildcards):
    return derive_seed(
        SEED, "random_forest", wildcards.dataset, first_rep(wildcards.dataset)
    )


def shown_rate(wildcards):
    return float(showcase_rate())


def shown_rep(wildcards):
    return first_rep(wildcards.dataset)


def configured_rates(wildcards):
    return [float(r) for r in RATES]


def predicted_rates(wildcards):
    return [float(r) for r in prediction_rates()]


def log_beta(wildcards):
    return math.log(B["beta"])


def b_settings(wildcards):
    keys = ("rates", "beta", "likelihood_reduction", "likelihood_scale", "prior_sigma2")
    return {k: B[k] for k in keys if k in B}


def provenance_params(wildcards):
    """Config digest, the seeds every job used (from the rules' own seed functions) and
    source checksums for the report."""
    seeds = []
    for d, r in a_runs():
        w = {"dataset": d, "rep": str(r)}
        seeds.append(
            {
                "method": "A",
                "dataset": d,
                "rep": r,
                "train": rep_seed("train")(w),
                "sample": rep_seed("sample")(w),
                "scores": rep_seed("scores", keys=("dataset", "rep"))(w),
                "resample": {
                    f"{c}/{p}": rep_seed("resample")({**w, "criterion": c, "rate": p})
                    for c in CRITERIA
                    for p in RATES
                },
            }
        )
    for d, r in b_runs():
        w = {"dataset": d, "rep": str(r)}
        seeds.append(
            {
                "method": "B",
                "dataset": d,
                "rep": r,
                "bayes_factor": rep_seed("bayes_factor", keys=("dataset", "rep"))(w),
            }
        )
    return {
        "config_digest": config_digest(CFG),
        "seed": SEED,
        "seeds": seeds,
        "sources": {path: spec.get("sha256") for path, spec in RAW_FILES.items()},
        "config": CFG,
    }


# ---------------------------------------------------------------- LOO model comparison


def loo_keys(wildcards):
    """[stage, criterion, rate, rep] of every stage of the dataset (full first)."""
    return _stage_keys(wildcards.dataset)


def loo_inputs(wildcards):
    return [
        f"{_stage_dir(wildcards.dataset, k)}/posterior.nc" for k in loo_keys(wildcards)
    ]


def loo_tables_all():
    return [f"results/tables/loo/{d}.csv" for d in A_DATASETS]


# ---------------------------------------------------------------- targets


def report_targets():
    """Every figure and headline table (and the provenance page) of the configured run."""
    out = [f"{FIGURES}/provenance.html"]
    for d in A_DATASETS:
        fig = f"{FIGURES}/method_a/{d}"
        out += [f"{fig}/pruning_curves.png", f"{fig}/pruned_vs_resampled.png"]
        out.append(f"{fig}/loo.png")
        if CRITERIA and RATES:
            out += [f"{fig}/rhat_ess.png", f"{fig}/parameter_density.png"]
            out += [f"{fig}/trace_{c}.png" for c in CRITERIA]
            if a_task(d) == "regression":
                out.append(f"{fig}/predicted_vs_actual.png")
            else:
                out += [
                    f"{fig}/{k}_{c}.png"
                    for c in CRITERIA
                    for k in ("roc", "reliability")
                ]
    if A_DATASETS:
        out += [f"results/tables/headline_method_a.{x}" for x in ("csv", "md", "html")]
        out += ["results/tables/loo.csv", "results/tables/loo.md"]
    for d in B_DATASETS:
        fig = f"{FIGURES}/method_b/{d}"
        out += [
            f"{fig}/{k}.png"
            for k in ("accuracy", "sparsity", "log_bayes_factor", "final")
        ]
        if B["tradeoff"]["seeds"]:
            out.append(f"{fig}/tradeoff.png")
    if B_DATASETS:
        out += [f"results/tables/headline_method_b.{x}" for x in ("csv", "md", "html")]
    return out
