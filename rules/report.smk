# Figures, headline tables and the Snakemake HTML report (`snakemake --report
# results/report.html`). One plotting job per dataset and figure kind (the trace and
# classification jobs draw one figure per criterion); every output is marked for the report
# with a caption.


include: "report_common.smk"


report: "../report/workflow.rst"


# ---------------------------------------------------------------- method A figures


rule plot_curves:
    input:
        unpack(plot_curve_inputs),
    output:
        report(
            f"{FIGURES_A_DIR}/pruning_curves.png",
            caption="../report/pruning_curves.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "1 pruning curves", "criterion": "all"},
        ),
    log:
        "results/logs/plots/{dataset}/curves.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        rates=configured_rates,
    script:
        "../workflow_scripts/plot_curves.py"


rule plot_stage_bars:
    input:
        table=rules.table_pruning.output.csv,
        unpruned=rules.table_unpruned.output.csv,
    output:
        report(
            f"{FIGURES_A_DIR}/pruned_vs_resampled.png",
            caption="../report/pruned_vs_resampled.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "2 pruned vs resampled", "criterion": "all"},
        ),
    log:
        "results/logs/plots/{dataset}/stage_bars.log",
    conda:
        "../envs/bayesprune.yaml"
    script:
        "../workflow_scripts/plot_stage_bars.py"


rule plot_predictions:
    input:
        unpack(plot_prediction_inputs),
    output:
        report(
            f"{FIGURES_A_DIR}/predicted_vs_actual.png",
            caption="../report/predicted_vs_actual.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "3 predicted vs actual", "criterion": "all"},
        ),
    log:
        "results/logs/plots/{dataset}/predictions.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        criteria=A_CRITERIA,
        rates=predicted_rates,
        rep=shown_rep,
    script:
        "../workflow_scripts/plot_predictions.py"


rule plot_modes:
    input:
        diagnostics=of_dataset(rules.sample.output.diagnostics, "full"),
    output:
        report(
            f"{FIGURES_A_DIR}/modes.png",
            caption="../report/figure.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "7 modes", "criterion": "all"},
        ),
    log:
        "results/logs/plots/{dataset}/modes.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        figure="modes.modes_job",
        method="A",
        caption=(
            "How multimodal the full posterior of **{dataset}** is, per replicate. Left: the "
            "median parameter R-hat of its chains as sampled (raw) and after mapping every "
            "draw onto one symmetric copy of the network (aligned: hidden-unit permutations "
            "and sign flips undone); what alignment leaves above 1.1 are genuine local modes. "
            "Right: how many groups of chains make predictions that differ beyond Monte Carlo "
            "error (1 = all chains agree), with the log likelihood's R-hat over the chains."
        ),
    script:
        "../workflow_scripts/figure.py"


rule plot_traces:
    input:
        unpack(plot_trace_inputs),
    output:
        **per_criterion_figures("trace", "../report/trace.rst", "4 trace and rank"),
    log:
        "results/logs/plots/{dataset}/traces.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        criteria=A_CRITERIA,
        rate=shown_rate,
        rep=shown_rep,
        n_params=4,
    script:
        "../workflow_scripts/plot_traces.py"


rule plot_convergence:
    input:
        unpack(plot_stage_inputs),
    output:
        rhat=report(
            f"{FIGURES_A_DIR}/rhat_ess.png",
            caption="../report/rhat_ess.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "5 R-hat and ESS", "criterion": "all"},
        ),
        density=report(
            f"{FIGURES_A_DIR}/parameter_density.png",
            caption="../report/parameter_density.rst",
            category="Method A",
            subcategory="{dataset}",
            labels={"figure": "6 parameter density", "criterion": "all"},
        ),
    log:
        "results/logs/plots/{dataset}/convergence.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        rhat_threshold=1.01,
    script:
        "../workflow_scripts/plot_convergence.py"


rule plot_classification:
    input:
        unpack(plot_classification_inputs),
    output:
        **per_criterion_figures("roc", "../report/roc.rst", "7 ROC curves"),
        **per_criterion_figures(
            "reliability", "../report/reliability.rst", "8 reliability diagram"
        ),
    log:
        "results/logs/plots/{dataset}/classification.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        criteria=A_CRITERIA,
        rate=shown_rate,
        rep=shown_rep,
        seed=forest_seed,
    script:
        "../workflow_scripts/plot_classification.py"


# ---------------------------------------------------------------- method B figures


rule plot_bayes_factor:
    input:
        epochs=rules.table_bayes_factor.output.epochs,
        finals=rules.table_bayes_factor.output.csv,
    output:
        accuracy=report(
            f"{FIGURES_B_DIR}/accuracy.png",
            caption="../report/bf_accuracy.rst",
            category="Method B",
            subcategory="{dataset}",
            labels={"figure": "1 accuracy per epoch"},
        ),
        sparsity=report(
            f"{FIGURES_B_DIR}/sparsity.png",
            caption="../report/bf_sparsity.rst",
            category="Method B",
            subcategory="{dataset}",
            labels={"figure": "2 sparsity per epoch"},
        ),
        log_bf=report(
            f"{FIGURES_B_DIR}/log_bayes_factor.png",
            caption="../report/bf_log_bf.rst",
            category="Method B",
            subcategory="{dataset}",
            labels={"figure": "3 log Bayes factor"},
        ),
        final=report(
            f"{FIGURES_B_DIR}/final.png",
            caption="../report/bf_final.rst",
            category="Method B",
            subcategory="{dataset}",
            labels={"figure": "4 accuracy vs sparsity"},
        ),
    log:
        "results/logs/plots/{dataset}/bayes_factor.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        log_beta=log_beta,
        settings=b_gate_settings,
    script:
        "../workflow_scripts/plot_method_b.py"


# ---------------------------------------------------------------- tables and provenance


rule table_headline_a:
    input:
        table=rules.table_pruning.output.csv,
        unpruned=rules.table_unpruned.output.csv,
        full=rules.table_pruning.output.full_csv,
    output:
        csv=f"{TABLES_DIR}/headline_method_a.csv",
        md=f"{TABLES_DIR}/headline_method_a.md",
        html=report(
            f"{TABLES_DIR}/headline_method_a.html",
            caption="../report/headline_method_a.rst",
            category="Tables",
            labels={"table": "method A headline"},
        ),
        full_html=report(
            f"{TABLES_DIR}/full_posterior.html",
            caption="../report/full_posterior.rst",
            category="Tables",
            labels={"table": "method A full posterior: chains, pooling, modes"},
        ),
    log:
        "results/logs/tables/headline_method_a.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        method="a",
    script:
        "../workflow_scripts/table_headline.py"


rule table_headline_b:
    input:
        finals=rules.table_bayes_factor.output.csv,
    output:
        csv=f"{TABLES_DIR}/headline_method_b.csv",
        md=f"{TABLES_DIR}/headline_method_b.md",
        html=report(
            f"{TABLES_DIR}/headline_method_b.html",
            caption="../report/headline_method_b.rst",
            category="Tables",
            labels={"table": "method B headline"},
        ),
    log:
        "results/logs/tables/headline_method_b.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        method="b",
        settings=b_gate_settings,
    script:
        "../workflow_scripts/table_headline.py"


rule provenance:
    output:
        report(
            f"{FIGURES_DIR}/provenance.html",
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"page": "provenance"},
        ),
    log:
        "results/logs/plots/provenance.log",
    conda:
        "../envs/bayesprune.yaml"
    params:
        provenance_params,
    script:
        "../workflow_scripts/plot_provenance.py"
