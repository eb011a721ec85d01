"""The sampler's checkpoint: one record (:class:`Checkpoint`), one writer (:func:`save`), one
reader (:func:`load`).

A checkpoint holds everything a run needs to continue to exactly the samples of an
uninterrupted one: the kernel's state, the trace so far, the adaptation's state, the noise
stream's position and the iteration. Its ``fingerprint`` names the run it belongs to (start,
kernel, lengths, seed, adaptation and the caller's ``target_id``); a file of another run, or
one that cannot be read, is ignored (and later overwritten). The file is an uncompressed
``np.savez`` archive at the path the caller gives (the workflow's ``.pt`` paths), written
atomically; every array is stored under ``<part>.<name>``.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bayesprune.io import atomic_path

PARTS = ("state", "trace", "adaptation")


@dataclass(frozen=True)
class Checkpoint:
    """A run after ``iteration`` iterations (see the module docstring)."""

    fingerprint: str
    iteration: int
    elapsed_s: float
    block_start: int  # the noise stream's block start ...
    rng_states: list  # ... and every chain's generator state there
    state: dict[str, np.ndarray]  # the kernel state's fields
    trace: dict[str, np.ndarray]  # the kept draws so far and the counters
    adaptation: dict[str, np.ndarray]  # the adaptation's arrays (empty without adaptation)


def save(path: str | os.PathLike[str], ck: Checkpoint) -> None:
    """Write ``ck`` to ``path`` atomically."""
    arrays = {
        "fingerprint": np.array(ck.fingerprint),
        "iteration": np.array(ck.iteration),
        "elapsed_s": np.array(ck.elapsed_s),
        "block_start": np.array(ck.block_start),
        "rng_states": np.array(json.dumps(ck.rng_states)),
    }
    for part in PARTS:
        arrays |= {f"{part}.{name}": value for name, value in getattr(ck, part).items()}
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load(
    path: str | os.PathLike[str], fingerprint: str, logger: logging.Logger | None = None
) -> Checkpoint | None:
    """The checkpoint at ``path`` if it exists, can be read and belongs to the run
    ``fingerprint``; else None (saying why to ``logger``)."""
    ck = Path(path)
    if not ck.exists():
        return None
    try:
        with np.load(ck, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fingerprint:
                if logger is not None:
                    logger.warning("checkpoint %s belongs to another run; starting over", ck)
                return None
            parts: dict[str, dict[str, np.ndarray]] = {part: {} for part in PARTS}
            for key in z.files:
                part, _, name = key.partition(".")
                if part in parts:
                    parts[part][name] = z[key]
            out = Checkpoint(
                fingerprint,
                int(z["iteration"]),
                float(z["elapsed_s"]),
                int(z["block_start"]),
                json.loads(str(z["rng_states"])),
                **parts,
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
        # Unreadable (truncated, corrupt): start over; the next checkpoint replaces it.
        if logger is not None:
            logger.warning(
                "ignoring unreadable checkpoint %s (%s: %s); starting over",
                ck,
                type(err).__name__,
                err,
            )
        return None
    if logger is not None:
        logger.info("resuming from checkpoint %s at iteration %d", ck, out.iteration)
    return out
