"""Score every parameter from the full posterior, prune at one (criterion, rate), evaluate."""

from bayesprune.data import load_split
from bayesprune.evaluation import evaluate_posterior, predictive_summary
from bayesprune.io import logged, save_npz, write_json
from bayesprune.posterior import load_posterior, network_of, pooled_draws
from bayesprune.pruning import make_mask, mask_to_dict, scores

with logged(snakemake.log[0]) as log:
    arrays, meta = load_split(snakemake.input.npz, snakemake.input.meta)
    idata = load_posterior(snakemake.input.posterior)
    spec = network_of(idata)
    theta = pooled_draws(idata, "theta")
    tau2 = pooled_draws(idata, "tau2") if "tau2" in idata.posterior else None
    p = snakemake.params.pruning
    criterion, rate = snakemake.wildcards.criterion, float(snakemake.wildcards.rate)
    seed = snakemake.params.seed
    pruned = make_mask(
        scores(theta, criterion, seed=seed),
        rate,
        spec,
        scope=p["scope"],
        include_biases=p["include_biases"],
    )
    mask = mask_to_dict(
        pruned,
        spec,
        rate=rate,
        criterion=criterion,
        scope=p["scope"],
        include_biases=p["include_biases"],
        seed=seed,
    )
    metrics = evaluate_posterior(
        spec, meta["task"], theta, tau2, arrays, meta, pruned=pruned, seed=seed
    )
    predictive = predictive_summary(spec, meta["task"], theta, tau2, arrays, meta, pruned=pruned)
    write_json(snakemake.output.mask, mask)
    save_npz(snakemake.output.predictive, **predictive)
    write_json(snakemake.output.metrics, metrics)
    log.info(
        "%s at %.3g: pruned %d of %d; point metrics %s",
        criterion,
        rate,
        len(pruned),
        spec.n_params,
        metrics["point"],
    )
