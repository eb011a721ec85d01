"""Method B trade-off study for one dataset and seed: gated variants and magnitude baselines."""

from bayesprune.data.splits import load_split
from bayesprune.io import logged, write_csv
from bayesprune.masked_networks import MaskedNetworkSpec
from bayesprune.networks import resolve_device
from bayesprune.tradeoff import TradeoffSettings, run_tradeoff

with logged(snakemake.log[0]) as log:
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    study = run_tradeoff(
        arrays,
        MaskedNetworkSpec.from_params(snakemake.params.network),
        TradeoffSettings.from_params(snakemake.params.settings),
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
