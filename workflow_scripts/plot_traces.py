"""Method A: trace and rank plots of a few kept parameters of the first run, its full-posterior
draws (aligned) vs its resampled sub-chains, per criterion."""

import json

import pandas as pd

from bayesprune.figures.style import save_figure
from bayesprune.figures.traces import pick_parameters, trace_rank_figure
from bayesprune.io import logged, read_json
from bayesprune.labels import criterion_label, rate_text
from bayesprune.posterior import draws_by_chain, load_posterior, network_of
from bayesprune.runs import Run, run_draws

with logged(snakemake.log[0]) as log:
    p, inp = snakemake.params, snakemake.input
    table = pd.read_csv(inp.full_params)
    full = load_posterior(inp.full)
    spec = network_of(full)
    theta_raw = draws_by_chain(full)
    for crit in p.criteria:
        entry = read_json(inp[f"mask_{crit}"])["runs"][0]
        run = Run(entry["run"], tuple(entry["chains"]))
        own = table[table["run"] == ("all" if run.chain is None else run.label)]
        index = dict(zip(own["param"], own["index"], strict=True))
        names = pick_parameters(own, entry["pruned"], p.n_params)
        theta_full = run_draws(spec, theta_raw, run)
        resampled = load_posterior(inp[f"resampled_{crit}"])
        sub = json.loads(resampled.posterior.attrs["runs"])[0]["sub_chains"]
        theta_res = draws_by_chain(resampled)[sub]
        before = {n: theta_full[:, :, int(index[n])] for n in names}
        after = {n: theta_res[:, :, int(index[n])] for n in names}
        if "tau2" in full.posterior and "tau2" in resampled.posterior:
            before["tau2 (noise variance)"] = draws_by_chain(full, "tau2")[list(run.chains)]
            after["tau2 (noise variance)"] = draws_by_chain(resampled, "tau2")[sub]
        title = (
            f"{snakemake.wildcards.dataset} (replicate {p.rep}, run {run.label}), "
            f"{criterion_label(crit)} at {rate_text(p.rate)} removed: pruned "
            "(the run's aligned full-posterior draws) vs resampled (its sub-chains)"
        )
        fig = trace_rank_figure(before, after, title=title)
        save_figure(fig, snakemake.output[f"trace_{crit}"])
        log.info("%s: parameters shown: %s", crit, names)
