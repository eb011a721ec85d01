"""Method A (regression): predicted vs actual test targets at 0% and each shown pruning rate."""

import numpy as np

from bayesprune.figures.predictions import predicted_vs_actual_figure
from bayesprune.figures.style import save_figure
from bayesprune.io import load_npz, logged, read_json
from bayesprune.layout import stage_key
from bayesprune.loaders import run_arrays

with logged(snakemake.log[0]) as log:
    p = snakemake.params
    full = run_arrays(load_npz(snakemake.input.full))
    stages = {stage_key(path)[:3]: run_arrays(load_npz(path)) for path in snakemake.input.stages}
    scaler = read_json(snakemake.input.meta).get("target_scaler") or {}
    scale, center, unit = 1.0, 0.0, "modelled target scale"
    if scaler.get("kind", "none") != "none":
        scale = float(np.atleast_1d(scaler["scale"])[0])
        center = float(np.atleast_1d(scaler["center"])[0])
        unit = "original target units"
    title = (
        f"{snakemake.wildcards.dataset} (replicate {p.rep}, first run): predicted vs actual, "
        "test set"
    )
    fig = predicted_vs_actual_figure(
        full, stages, p.criteria, p.rates, scale=scale, center=center, unit=unit, title=title
    )
    save_figure(fig, snakemake.output[0])
    log.info("%d panels", len(stages) // 2 + 1)
