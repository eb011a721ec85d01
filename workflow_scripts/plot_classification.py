"""Method A (classification): ROC curves and reliability diagram of the pruned and resampled
BNN beside the full BNN and a seeded random forest trained on the same split, per criterion."""

from bayesprune.baselines import random_forest_probs
from bayesprune.data.splits import load_split
from bayesprune.figures.classification import reliability_figure, roc_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import load_npz, logged
from bayesprune.labels import rate_text
from bayesprune.loaders import run_arrays

with logged(snakemake.log[0]) as log:
    p, inp = snakemake.params, snakemake.input
    arrays, meta = load_split(inp.npz, inp.meta)
    full = run_arrays(load_npz(inp.full))
    n_classes = full["pred_probs"].shape[1]
    forest = random_forest_probs(
        arrays["X_train"], arrays["y_train"], arrays["X_test"], n_classes, seed=p.seed
    )
    y = full["y_true"]
    where = f"{snakemake.wildcards.dataset} (replicate {p.rep}, first run)"
    for crit in p.criteria:
        pruned, resampled = (
            run_arrays(load_npz(inp[f"pruned_{crit}"])),
            run_arrays(load_npz(inp[f"resampled_{crit}"])),
        )
        shown = f"{crit.upper()} {rate_text(p.rate)}"
        probs = {
            "full BNN": full["pred_probs"],
            f"pruned BNN ({shown})": pruned["pred_probs"],
            f"resampled BNN ({shown})": resampled["pred_probs"],
            "random forest": forest,
        }
        fig = roc_figure(
            y,
            probs,
            meta.get("class_names"),
            title=f"{where}: one-vs-rest ROC, posterior predictive",
        )
        save_figure(fig, snakemake.output[f"roc_{crit}"])
        fig = reliability_figure(
            y, probs, title=f"{where}: reliability of the posterior predictive"
        )
        save_figure(fig, snakemake.output[f"reliability_{crit}"])
    log.info("random forest seed %d", p.seed)
