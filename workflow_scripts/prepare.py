"""Read one dataset (checksums verified again) and write one replicate's train/test split."""

from pathlib import Path

from bayesprune.data.download import fetch_dataset
from bayesprune.data.readers import read_dataset
from bayesprune.data.splits import prepare_split, save_split
from bayesprune.io import logged

with logged(snakemake.log[0]) as log:
    name, entry = snakemake.wildcards.dataset, snakemake.params.entry
    roles = {k: v for k, v in snakemake.input.items()}
    raw_dir = Path("data/raw")
    # Re-verify every file against its sha256 (a raw file edited since download is caught).
    files = fetch_dataset(name, entry, raw_dir) if roles else {}
    raw = read_dataset(name, entry, files)
    arrays, meta = prepare_split(name, entry, raw, int(snakemake.wildcards.rep))
    save_split(snakemake.output.npz, snakemake.output.meta, arrays, meta)
    log.info(
        "%s rep %s: %d train / %d test rows",
        name,
        snakemake.wildcards.rep,
        meta["n_train"],
        meta["n_test"],
    )
