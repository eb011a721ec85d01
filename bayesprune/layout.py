"""The run grid and its file layout: the one owner of where every job's outputs live.

:func:`job_table` lists every job of the producing rules (one row per method-A stage of a
dataset, replicate, criterion and rate; one per method-B training run) from the validated
config; the workflow takes every target from it. The path templates below are the only
place that spells out the result folders: rules name their outputs with them, and gathering
jobs read each file's keys back from its path (:func:`keys_of`), so no list of files is ever
matched to a list of keys by position.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pandas as pd

from .config import rate_label

#: a dataset's train/test split of one replicate (``.npz`` arrays, ``.json`` metadata)
SPLIT_BASE = "data/processed/{dataset}/rep{rep}"
#: method A's stage folders: the unpruned network, the full posterior, a pruned and a
#: resampled posterior at one criterion and rate
UNPRUNED_DIR = "results/method_a/{dataset}/rep{rep}/unpruned"
FULL_DIR = "results/method_a/{dataset}/rep{rep}/full"
PRUNED_DIR = "results/method_a/{dataset}/rep{rep}/pruned/{criterion}/{rate}"
RESAMPLED_DIR = "results/method_a/{dataset}/rep{rep}/resampled/{criterion}/{rate}"
#: method A's pruning curve of one replicate
CURVE_CSV = "results/method_a/{dataset}/rep{rep}/curve.csv"
#: method B's training run of one pruning method
METHOD_B_DIR = "results/method_b/{dataset}/rep{rep}/{method}"
#: method B's trade-off study of one seed
TRADEOFF_CSV = "results/method_b/{dataset}/tradeoff/seed{seed}.csv"
#: one start config's ablation cells on one dataset
ABLATION_CSV = "results/ablation/{start}/{dataset}.csv"
#: a dataset's PSIS-LOO scores of every stage
LOO_CSV = "results/tables/loo/{dataset}.csv"
TABLES_DIR = "results/tables"
FIGURES_DIR = "results/figures"
FIGURES_A_DIR = "results/figures/method_a/{dataset}"
FIGURES_B_DIR = "results/figures/method_b/{dataset}"

#: the folders whose files each hold one job's results, by stage (the ``stage`` column of
#: :func:`job_table`; every method-B run is stage ``method_b``)
STAGE_DIRS = {
    "unpruned": UNPRUNED_DIR,
    "full": FULL_DIR,
    "pruned": PRUNED_DIR,
    "resampled": RESAMPLED_DIR,
    "method_b": METHOD_B_DIR,
}
#: templates of single files, by name
FILES = {"curve": CURVE_CSV, "tradeoff": TRADEOFF_CSV, "ablation": ABLATION_CSV, "loo": LOO_CSV}
#: the pattern of each wildcard and the type it is read back as
_WILDCARDS = {"rep": (r"\d+", int), "seed": (r"\d+", int), "rate": (r"[^/]+", float)}
KEY_COLUMNS = ["dataset", "rep", "criterion", "rate", "method"]


def _regex(template: str, tail: str = "") -> re.Pattern[str]:
    """A pattern of the paths a template makes (under any folder), then ``tail``."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_WILDCARDS.get(part, (r'[^/]+',))[0]})"
        for i, part in enumerate(parts)
    )
    return re.compile(r"(?:.*/)?" + pattern + tail)


#: stage folders hold a job's files (any name); the file templates are whole paths
_PATTERNS = [(name, _regex(t, r"/[^/]+")) for name, t in STAGE_DIRS.items()] + [
    (name, _regex(t)) for name, t in FILES.items()
]


def parse(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """The stage (or file kind) of a result file and the keys its path holds, typed
    (``rep`` and ``seed`` int, ``rate`` float), in the order the template names them."""
    text = os.fspath(path).replace(os.sep, "/")
    for name, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            keys = {k: _WILDCARDS.get(k, (None, str))[1](v) for k, v in match.groupdict().items()}
            return name, keys
    raise ValueError(f"{text}: not a path of the result layout (bayesprune.layout)")


def keys_of(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The keys a result file's path holds, e.g. ``{"dataset": "iris", "rep": 0}``."""
    return parse(path)[1]


def stage_key(path: str | os.PathLike[str]) -> tuple[str, str, float, int]:
    """``(stage, criterion, rate, rep)`` of a method-A stage file; the full posterior is
    criterion ``none`` at rate 0."""
    stage, keys = parse(path)
    return stage, keys.get("criterion", "none"), keys.get("rate", 0.0), keys["rep"]


def job_table(cfg: dict[str, Any]) -> pd.DataFrame:
    """Every job of the producing rules of a validated config, one row each.

    Columns: ``stage`` (``unpruned``, ``full``, ``pruned``, ``resampled``, ``method_b``) and
    the keys ``dataset``, ``rep``, ``criterion``, ``rate`` (its label, as in paths) and
    ``method`` (method B's pruning method), None where a stage has no such key. Rows run by
    dataset and replicate, then criterion, rate and stage: the order of every gathered table.
    """
    a, b = cfg["method_a"], cfg["method_b"]
    rates = [rate_label(r) for r in a["pruning"]["rates"]]
    rows: list[dict[str, Any]] = []
    for dataset in a["datasets"]:
        for rep in range(cfg["datasets"][dataset]["split"]["replicates"]):
            key = {"dataset": dataset, "rep": rep}
            rows += [{"stage": "unpruned", **key}, {"stage": "full", **key}]
            rows += [
                {"stage": stage, **key, "criterion": criterion, "rate": rate}
                for criterion in a["pruning"]["criteria"]
                for rate in rates
                for stage in ("pruned", "resampled")
            ]
    for dataset in b["datasets"]:
        for rep in range(cfg["datasets"][dataset]["split"]["replicates"]):
            rows += [
                {"stage": "method_b", "dataset": dataset, "rep": rep, "method": method}
                for method in b["methods"]
            ]
    table = pd.DataFrame(rows, columns=["stage", *KEY_COLUMNS], dtype=object)
    return table.where(table.notna(), None)


def select(jobs: pd.DataFrame, stage: str | tuple[str, ...], **where: Any) -> pd.DataFrame:
    """The rows of ``jobs`` of a stage (or any of several) whose keys equal ``where``'s
    values (a list or tuple: any of them), in table order."""
    stages = (stage,) if isinstance(stage, str) else stage
    keep = jobs["stage"].isin(stages)
    for column, value in where.items():
        values = value if isinstance(value, list | tuple) else [value]
        keep &= jobs[column].isin(values)
    return jobs[keep]
