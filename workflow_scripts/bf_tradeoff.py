"""Method B trade-off study for one dataset and seed: gated variants and magnitude baselines."""

from bayesprune.data.splits import load_split
from bayesprune.io import logged, write_csv
from bayesprune.networks import resolve_device
from bayesprune.tradeoff import run_tradeoff

with logged(snakemake.log[0]) as log:
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    s = snakemake.params.settings
    study = run_tradeoff(
        arrays["X_train"],
        arrays["y_train"],
        arrays["X_test"],
        arrays["y_test"],
        snakemake.params.network,
        s["train"],
        s["grid"],
        seed=snakemake.params.seed,
        n_classes=meta["n_outputs"],
        device=resolve_device(snakemake.params.device),
        threads=snakemake.threads,
        log=log.info,
    )
    study.insert(0, "seed", int(snakemake.wildcards.seed))
    study.insert(0, "dataset", snakemake.wildcards.dataset)
    write_csv(snakemake.output[0], study)
    log.info("%d runs", len(study))
