"""Every ablation cell of one start config on one dataset: the headline numbers."""

from threadpoolctl import threadpool_limits

from bayesprune.ablation import run_start
from bayesprune.data.download import fetch_dataset
from bayesprune.data.readers import read_dataset
from bayesprune.io import logged, write_csv

with logged(snakemake.log[0]) as log, threadpool_limits(snakemake.threads):
    name, cells = snakemake.wildcards.dataset, snakemake.params.cells
    entry = cells[0]["full"]["entry"]
    raw = read_dataset(name, entry, fetch_dataset(name, entry, "data/raw"))
    frame = run_start(name, raw, cells, snakemake.params.replicates, logger=log)
    frame.insert(0, "start", snakemake.wildcards.start)
    write_csv(snakemake.output[0], frame)
