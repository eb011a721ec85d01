"""The errors of the data stages: each names the dataset, the file and what to do."""

from __future__ import annotations

from bayesprune.io import UserError


class DataError(UserError):
    """Any problem with a dataset: its config, its files or their contents."""


class DownloadError(DataError):
    """A file could not be downloaded (after retries) or copied from the mirror."""


class ChecksumError(DataError):
    """A file's sha256 differs from the one in the config."""


class DataFormatError(DataError):
    """A file's contents cannot be parsed into the configured dataset."""
