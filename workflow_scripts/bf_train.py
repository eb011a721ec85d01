"""Method B: train one network with one pruning method (gated or a baseline); log every epoch."""

from bayesprune.data.splits import load_split
from bayesprune.io import logged, read_json, write_csv, write_json
from bayesprune.masked_networks import MaskedNetworkSpec
from bayesprune.networks import resolve_device
from bayesprune.sparse_training import MethodBSettings, train_method

with logged(snakemake.log[0]) as log:
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    settings = MethodBSettings.from_params(snakemake.params.settings)
    reference = snakemake.input.get("reference")
    result = train_method(
        snakemake.wildcards.method,
        arrays,
        MaskedNetworkSpec.from_params(snakemake.params.network),
        settings.train,
        settings.gate,
        n_classes=meta["n_outputs"],
        seed=snakemake.params.seed,
        final_sparsity=read_json(reference)["sparsity"] if reference else None,
        device=resolve_device(snakemake.params.device),
        threads=snakemake.threads,
        log=log.info,
    )
    write_csv(snakemake.output.history, result.history)
    write_json(snakemake.output.final, result.final)
    log.info("final: %s", result.final)
