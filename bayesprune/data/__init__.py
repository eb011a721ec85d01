"""Datasets: download, readers, split + scaling.

A dataset is described by one config entry (``datasets: {name: entry}``, validated by
``bayesprune/schemas/dataset.schema.yaml``; defaults filled in by :mod:`.entry`). The stages:

1. :mod:`.download`: ``fetch_dataset`` / ``fetch`` put every file of a url source under
   ``raw_dir`` (copied from the mirror folder when it holds the file, downloaded otherwise),
   always verified by sha256. Nothing partial or unverified is ever left behind.
2. :mod:`.readers`: ``read_dataset`` parses the raw files into a :class:`.raw.RawDataset`
   with the reader of its ``reader.kind`` (``READERS``: csv and series, idx, cifar, sklearn;
   one module ``reader_<kind>.py`` each). Members of zip and tar archives are read straight
   from the archive.
3. :mod:`.splits`: ``prepare_split``: seeded (stratified) train/test split, scalers fitted on
   the training rows only; ``save_split`` / ``load_split`` write and read the processed
   ``rep{r}.npz`` + ``rep{r}.json`` pair described in ``docs/ARCHITECTURE.md``.

Every problem with the data raises a :class:`.errors.DataError` that names the dataset, the
file and what to do about it.
"""
