"""PSIS-LOO model comparison of method A's stages (full, pruned, resampled posteriors).

Each stage's ``posterior.nc`` carries the pointwise log likelihood of the training set
(``log_likelihood.y``) and of the test set (``log_likelihood_test.y``), see
:func:`bayesprune.posterior.with_observations`. From them:

- ``elpd_loo``, ``se``, ``p_loo``: PSIS-LOO expected log pointwise predictive density of the
  training set (``az.loo``'s estimator, vectorised: :mod:`bayesprune.psis`), its standard
  error and effective number of parameters;
- Pareto-k counts: ``k_good`` (k <= ArviZ's sample-size threshold ``good_k`` =
  min(1 - 1/log10(S), 0.7)), ``k_bad`` (good_k < k <= 1), ``k_very_bad`` (k > 1). Only with
  no bad k is ``elpd_loo`` reliable;
- ``elpd_waic``: WAIC's estimate of the same quantity;
- ``lpd_test``: the test log predictive density ``sum_i log (1/S) sum_s p(y_i | theta_s)``,
  the held-out counterpart of ``elpd_loo``.

"Pruning keeps generalisation" then reads: the pruned and resampled stages' ``elpd_loo``
(and ``lpd_test``) lie within a few standard errors of the full posterior's.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from bayesprune import psis
from bayesprune.arviz_setup import az

LOO_COLUMNS = [
    "n_train",
    "n_test",
    "n_draws",
    "elpd_loo",
    "se",
    "p_loo",
    "elpd_waic",
    "good_k",
    "k_good",
    "k_bad",
    "k_very_bad",
    "lpd_test",
    "lpd_test_se",
]


def heldout_lpd(idata: az.InferenceData) -> tuple[float, float]:
    """Test log predictive density (sum over test points) and its standard error
    ``sqrt(n) * sd(pointwise)``, from ``log_likelihood_test.y``."""
    if "log_likelihood_test" not in idata.groups():
        raise ValueError(
            "this posterior file has no log_likelihood_test group: it was written before "
            "model comparison existed; rerun its job (snakemake --forcerun <file>)"
        )
    ll = idata["log_likelihood_test"]["y"].transpose("chain", "draw", ...).values
    flat = ll.reshape(-1, ll.shape[-1]).astype(np.float64)
    pointwise = logsumexp(flat, axis=0) - np.log(flat.shape[0])
    return float(pointwise.sum()), float(np.sqrt(len(pointwise)) * pointwise.std(ddof=1))


#: the groups of a stage file that :func:`stage_scores` reads (``posterior``: ArviZ's
#: relative efficiency of the draws)
SCORE_GROUPS = ("posterior", "log_likelihood", "log_likelihood_test")


def stage_loo(idata: az.InferenceData) -> az.ELPDData:
    """PSIS-LOO of one stage's training log likelihood, pointwise: ``az.loo``'s estimator,
    vectorised over observations (:func:`bayesprune.psis.loo`)."""
    if "log_likelihood" not in idata.groups():
        raise ValueError(
            "this posterior file has no log_likelihood group: it was written before model "
            "comparison existed; rerun its job (snakemake --forcerun <file>)"
        )
    return psis.loo(idata)


def stage_scores(idata: az.InferenceData, loo: az.ELPDData | None = None) -> dict[str, Any]:
    """PSIS-LOO, WAIC and test-set scores of one stage (keys: :data:`LOO_COLUMNS`);
    ``loo``: its :func:`stage_loo`, when already computed."""
    if loo is None:
        loo = stage_loo(idata)
    with warnings.catch_warnings():
        # ArviZ warns about WAIC's variance; the table counts high Pareto k instead
        warnings.simplefilter("ignore", UserWarning)
        waic = az.waic(idata)
    k = np.asarray(loo.pareto_k.values, dtype=np.float64)
    good_k = float(loo.good_k)
    lpd, lpd_se = heldout_lpd(idata)
    return {
        "n_train": int(loo.n_data_points),
        "n_test": int(idata["log_likelihood_test"]["y"].sizes["test_obs"]),
        "n_draws": int(loo.n_samples),
        "elpd_loo": float(loo.elpd_loo),
        "se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "elpd_waic": float(waic.elpd_waic),
        "good_k": good_k,
        "k_good": int((k <= good_k).sum()),
        "k_bad": int(((k > good_k) & (k <= 1.0)).sum()),
        "k_very_bad": int((k > 1.0).sum()),
        "lpd_test": lpd,
        "lpd_test_se": lpd_se,
    }


def score_runs(
    runs: list[tuple[Mapping[str, Any], az.InferenceData]],
) -> tuple[pd.DataFrame, list[az.ELPDData]]:
    """One row per run (its keys, e.g. dataset, rep, stage, criterion, rate, and its scores)
    and every run's :func:`stage_loo`, computed once: :func:`compare_stages` takes them."""
    loos = [stage_loo(idata) for _, idata in runs]
    rows = [
        {**dict(keys), **stage_scores(idata, loo)}
        for (keys, idata), loo in zip(runs, loos, strict=True)
    ]
    return pd.DataFrame(rows), loos


def score_table(runs: list[tuple[Mapping[str, Any], az.InferenceData]]) -> pd.DataFrame:
    """The table of :func:`score_runs`."""
    return score_runs(runs)[0]


def compare_stages(idatas: Mapping[str, az.InferenceData | az.ELPDData]) -> pd.DataFrame:
    """``az.compare`` of named stages (PSIS-LOO, stacking weights), best first; a stage given
    as its :func:`stage_loo` is not scored again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return az.compare(dict(idatas), ic="loo")


def table_markdown(table: pd.DataFrame) -> str:
    """The comparison table as Markdown: one row per run, counts as integers."""
    cols = [
        "dataset",
        "rep",
        "stage",
        "criterion",
        "rate",
        "elpd_loo",
        "se",
        "p_loo",
        "k_good",
        "k_bad",
        "k_very_bad",
        "lpd_test",
        "lpd_test_se",
    ]
    cols = [c for c in table.columns if c in cols] + [c for c in ("chain",) if c in table]
    shown = table[cols].copy()
    for c in ("elpd_loo", "se", "p_loo", "lpd_test", "lpd_test_se"):
        shown[c] = shown[c].map(lambda v: f"{v:.1f}")
    shown["rate"] = shown["rate"].map(lambda v: f"{100 * float(v):g}%")
    header = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in shown.values)
    return header + body
