"""Fetch one raw file: mirror first, then its URL; sha256 verified; written atomically."""

from pathlib import Path

from bayesprune.data.download import fetch
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    out = Path(snakemake.output[0])
    raw_dir = Path(str(out)[: -len(snakemake.wildcards.rawpath)])
    path = fetch(
        snakemake.params.spec,
        raw_dir,
        mirror=snakemake.params.mirror,
        dataset=snakemake.params.datasets,
        role=snakemake.wildcards.rawpath,
    )
    log.info("fetched %s (mirror: %s)", path, snakemake.params.mirror)
