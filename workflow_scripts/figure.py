"""Any figure job (bayesprune.figures.jobs): the function named by params.figure draws the
figure from the job's input files; saved atomically."""

from bayesprune.figures.jobs import draw
from bayesprune.figures.style import save_figure
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    name = snakemake.params.figure
    inputs = dict(snakemake.input.items())
    fig = draw(name, inputs, dict(snakemake.wildcards.items()), snakemake.params.get("options"))
    save_figure(fig, snakemake.output[0])
    log.info("%s drawn from %d input files", name, len(snakemake.input))
