"""MCMC progress lines for job logs: the settings at the start, then phase, percent, speed, ETA.

:func:`bayesprune.mcmc.runner.run_chains` calls :func:`start_line` once and formats every report
with :func:`progress_line`. A line reads, e.g.::

    sampling  62.5%  iteration 12500/20000  18,400 chain-it/s  ETA 1.6 s  acceptance [...]

Also here: :func:`remove_empty_dirs`, which the workflow runs at its end so that no empty
checkpoint folders stay behind (a checkpoint is removed once its job's outputs are written).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def format_duration(seconds: float) -> str:
    """``42.0 s``, ``3 min 05 s``, ``2 h 07 min``; ``?`` when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def start_line(settings: Mapping[str, Any]) -> str:
    """One line naming every setting of a run, ``key=value`` in the given order."""
    parts = [f"{k}={v}" for k, v in settings.items()]
    return "MCMC start: " + " ".join(parts)


def phase(iteration: int, n_burn: int, n_iter: int) -> str:
    """``burn-in`` while ``iteration < n_burn``, then ``sampling``, ``done`` at the end."""
    if iteration >= n_iter:
        return "done"
    return "burn-in" if iteration < n_burn else "sampling"


def eta_seconds(iteration: int, n_iter: int, chain_iters_per_s: float, n_chains: int) -> float:
    """Seconds left at the current speed (``chain_iters_per_s`` counts all chains)."""
    if iteration >= n_iter:
        return 0.0
    if chain_iters_per_s <= 0 or n_chains <= 0:
        return math.inf
    return (n_iter - iteration) * n_chains / chain_iters_per_s


def progress_line(
    iteration: int,
    n_iter: int,
    n_burn: int,
    chain_iters_per_s: float,
    n_chains: int,
    elapsed_s: float,
) -> str:
    """``phase  percent  iteration i/n  speed  elapsed  ETA`` (the sampler appends its stats)."""
    pct = 100.0 * iteration / max(n_iter, 1)
    eta = eta_seconds(iteration, n_iter, chain_iters_per_s, n_chains)
    return (
        f"{phase(iteration, n_burn, n_iter):<8s} {pct:5.1f}%  iteration {iteration}/{n_iter}  "
        f"{chain_iters_per_s:,.0f} chain-it/s  elapsed {format_duration(elapsed_s)}  "
        f"ETA {format_duration(eta)}"
    )


def remove_empty_dirs(root: str | os.PathLike[str]) -> list[Path]:
    """Remove every empty folder under ``root`` (deepest first), ``root`` included.

    Folders holding any file are kept. Returns the removed folders. A missing ``root`` is
    fine (nothing to do).
    """
    base = Path(root)
    removed: list[Path] = []
    if not base.is_dir():
        return removed
    for folder, _, _ in sorted(os.walk(base), key=lambda t: -len(Path(t[0]).parts)):
        path = Path(folder)
        try:
            path.rmdir()  # only succeeds when empty
        except OSError:
            continue
        removed.append(path)
    return removed
