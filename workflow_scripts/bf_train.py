"""Method B: train one network with one pruning method (gated or a baseline); log every epoch."""

from bayesprune.bayes_factor import run_method
from bayesprune.data.splits import load_split
from bayesprune.io import logged, read_json, write_csv, write_json
from bayesprune.networks import resolve_device

with logged(snakemake.log[0]) as log:
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    method, s = snakemake.wildcards.method, snakemake.params.settings
    reference = snakemake.input.get("reference")
    history, final = run_method(
        method,
        arrays["X_train"],
        arrays["y_train"],
        arrays["X_test"],
        arrays["y_test"],
        snakemake.params.network,
        epochs=s["train"]["epochs"],
        batch_size=s["train"]["batch_size"],
        lr=s["train"]["lr"],
        rates=s["rates"],
        beta=s["beta"],
        prior_sigma2=s["prior_sigma2"],
        likelihood_reduction=s["likelihood_reduction"],
        likelihood_scale=s["likelihood_scale"],
        seed=snakemake.params.seed,
        final_sparsity=read_json(reference)["sparsity"] if reference else None,
        device=resolve_device(snakemake.params.device),
        threads=snakemake.threads,
        n_classes=meta["n_outputs"],
        log=log.info,
    )
    write_csv(snakemake.output.history, history)
    write_json(snakemake.output.final, final)
    log.info("final: %s", final)
