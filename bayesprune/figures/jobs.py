"""Figure jobs: a figure drawn straight from a workflow job's input files.

A *figure job* is a function ``f(inputs, wildcards, **options) -> Figure`` in a module of
:mod:`bayesprune.figures`: ``inputs`` maps the rule's named inputs to a path or a list of
paths, ``wildcards`` the job's wildcards, ``options`` the rule's ``params.options``. The one
generic script ``workflow_scripts/figure.py`` calls the job named by the rule's
``params.figure`` (``"<module>.<function>"``, e.g. ``"modes.modes_job"``) and saves what it
returns, so a new figure is this one function and one rule (``rules/report.smk``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from matplotlib.figure import Figure

from bayesprune.io import UserError

FigureJob = Callable[..., Figure]


def resolve(name: str) -> FigureJob:
    """The figure job named ``"<module>.<function>"`` (a module of :mod:`bayesprune.figures`)."""
    module, _, function = name.rpartition(".")
    where = f"figure job {name!r} (a rule's params.figure)"
    if not module or not function:
        raise UserError(f"{where}: name it '<module>.<function>' of bayesprune.figures")
    try:
        found = importlib.import_module(f"bayesprune.figures.{module}")
    except ModuleNotFoundError as err:
        raise UserError(f"{where}: there is no module bayesprune/figures/{module}.py") from err
    job = getattr(found, function, None)
    if not callable(job):
        raise UserError(f"{where}: bayesprune/figures/{module}.py has no function {function}")
    return job


def draw(
    name: str,
    inputs: Mapping[str, Any],
    wildcards: Mapping[str, str],
    options: Mapping[str, Any] | None = None,
) -> Figure:
    """Call the figure job ``name`` on a job's named inputs and wildcards."""
    return resolve(name)(dict(inputs), dict(wildcards), **dict(options or {}))
