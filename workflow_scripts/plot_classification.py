"""Method A (classification): ROC curves and reliability diagram of the pruned and resampled
BNN beside the full BNN and a seeded random forest trained on the same split, per criterion."""

from bayesprune import plots
from bayesprune.data import load_split
from bayesprune.io import load_npz, logged

with logged(snakemake.log[0]) as log:
    p, inp = snakemake.params, snakemake.input
    arrays, meta = load_split(inp.npz, inp.meta)
    full = plots.run_arrays(load_npz(inp.full))
    n_classes = full["pred_probs"].shape[1]
    forest = plots.random_forest_probs(
        arrays["X_train"], arrays["y_train"], arrays["X_test"], n_classes, seed=p.seed
    )
    y = full["y_true"]
    where = f"{snakemake.wildcards.dataset} (replicate {p.rep}, first run)"
    for crit in p.criteria:
        pruned, resampled = (
            plots.run_arrays(load_npz(inp[f"pruned_{crit}"])),
            plots.run_arrays(load_npz(inp[f"resampled_{crit}"])),
        )
        shown = f"{crit.upper()} {plots.rate_text(p.rate)}"
        probs = {
            "full BNN": full["pred_probs"],
            f"pruned BNN ({shown})": pruned["pred_probs"],
            f"resampled BNN ({shown})": resampled["pred_probs"],
            "random forest": forest,
        }
        fig = plots.roc_figure(
            y,
            probs,
            meta.get("class_names"),
            title=f"{where}: one-vs-rest ROC, posterior predictive",
        )
        plots.save_figure(fig, snakemake.output[f"roc_{crit}"])
        fig = plots.reliability_figure(
            y, probs, title=f"{where}: reliability of the posterior predictive"
        )
        plots.save_figure(fig, snakemake.output[f"reliability_{crit}"])
    log.info("random forest seed %d", p.seed)
