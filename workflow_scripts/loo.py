"""PSIS-LOO and test log predictive density of every stage of one dataset; table and figure."""

from bayesprune.figures.loo import loo_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import logged, write_csv
from bayesprune.layout import stage_key
from bayesprune.model_comparison import SCORE_GROUPS, compare_stages, score_runs
from bayesprune.posterior import load_posterior, run_subsets

with logged(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    runs, first = [], {}
    first_rep = stage_key(snakemake.input[0])[3]
    for path in snakemake.input:
        stage, criterion, rate, rep = stage_key(path)
        idata = load_posterior(path, SCORE_GROUPS)
        keys = {"dataset": dataset, "rep": rep, "stage": stage, "criterion": criterion}
        keys["rate"] = rate
        # every run of the file on its own: a pruned file's runs have different masks
        for n, (label, chain, own) in enumerate(run_subsets(idata)):
            runs.append(({**keys, "run": label, "chain": chain}, own))
            if rep == first_rep and n == 0:
                name = "full" if stage == "full" else f"{stage} {criterion} {100 * rate:g}%"
                first[f"{name} ({label})"] = len(runs) - 1
    table, loos = score_runs(runs)  # each run's LOO once: the table and az.compare
    write_csv(snakemake.output.table, table)
    compare = compare_stages({name: loos[i] for name, i in first.items()})
    compare = compare.reset_index(names="stage")
    write_csv(snakemake.output.compare, compare)
    fig = loo_figure(table, title=f"{dataset}: does pruning keep generalisation? (PSIS-LOO)")
    save_figure(fig, snakemake.output.figure)
    log.info("%d stages scored; best by LOO: %s", len(table), compare["stage"].iloc[0])
