"""Method A: trace and rank plots of a few kept parameters, pruned vs resampled, per criterion."""

import pandas as pd

from bayesprune import plots
from bayesprune.io import logged, read_json
from bayesprune.posterior import draws_by_chain, load_posterior

with logged(snakemake.log[0]) as log:
    p, inp = snakemake.params, snakemake.input
    table = pd.read_csv(inp.full_params)
    index = dict(zip(table["param"], table["index"], strict=True))
    full = load_posterior(inp.full)
    theta_full = draws_by_chain(full)
    for crit in p.criteria:
        pruned_idx = read_json(inp[f"mask_{crit}"])["pruned"]
        names = plots.pick_parameters(table, pruned_idx, p.n_params)
        resampled = load_posterior(inp[f"resampled_{crit}"])
        theta_res = draws_by_chain(resampled)
        before = {n: theta_full[:, :, int(index[n])] for n in names}
        after = {n: theta_res[:, :, int(index[n])] for n in names}
        if "tau2" in full.posterior and "tau2" in resampled.posterior:
            before["tau2 (noise variance)"] = draws_by_chain(full, "tau2")
            after["tau2 (noise variance)"] = draws_by_chain(resampled, "tau2")
        title = (
            f"{snakemake.wildcards.dataset} (replicate {p.rep}), {plots.criterion_label(crit)}"
            f" at {plots.rate_text(p.rate)} removed: pruned (full-posterior draws) vs resampled"
        )
        fig = plots.trace_rank_figure(before, after, title=title)
        plots.save_figure(fig, snakemake.output[f"trace_{crit}"])
        log.info("%s: parameters shown: %s", crit, names)
