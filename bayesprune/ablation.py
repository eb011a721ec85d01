"""The ablation: two configs, one departure switched at a time, in both directions.

A *switch* is a named group of config keys (:data:`SWITCHES`). Starting from one config
(``start``), a cell takes that switch's keys from the other config and keeps everything else;
``switch == "base"`` is the start itself. With ``config/authors.yaml`` and
``config/paper.yaml`` this switches each of the authors' choices to ours and each of ours to
theirs. A switch whose result is not a valid config (e.g. the authors' ratio without their
SGD drift) is *not applicable* in that direction; the reason is kept for the table.

Every cell runs method A the way the workflow does (the same :mod:`bayesprune.posterior`,
:mod:`bayesprune.pruning`, :mod:`bayesprune.runs` and :mod:`bayesprune.evaluation` code), on
the ablation's datasets and replicates, with the full chains shortened to
``ablation.samples`` iterations (both configs alike) and each config's resampling scaled by
``ablation.resample_fraction``. Only the headline numbers are computed: the test error of
the full posterior, and of every (criterion, rate) pruned and resampled, at the (masked)
posterior mean (``point``) and of the posterior predictive mean (``predictive``).

Cells that sample the same full posterior share it: :attr:`Cell.full_key` digests exactly
the settings the full chains depend on, so e.g. the ``rnd`` and ``evaluation`` switches
reuse their start's chains (and, by the common seeds, every cell's chain ``k`` of replicate
``r`` starts from the same draw and uses the same random stream).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from bayesprune.ablation_switches import (
    ESTIMATES,
    get_path,
    shortened,
    switch_paths,
    switched,
)
from bayesprune.config import ConfigError, derive_seed, validate_config


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Cell:
    """One (start, switch) of the grid: its config, or why it does not apply."""

    start: str  # label of the config it starts from
    switch: str  # "base" or a key of SWITCHES
    config: dict[str, Any] | None
    reason: str = ""  # why not applicable (config is None)
    changed: tuple[str, ...] = field(default=())  # keys whose value the switch changed

    @property
    def applicable(self) -> bool:
        return self.config is not None

    def full_settings(self, dataset: str) -> dict[str, Any]:
        """What the full chains of ``dataset`` depend on: its entry, the sampler block, the
        prior (only ``sigma2`` for classification) and the likelihood (classification)."""
        assert self.config is not None
        a = self.config["method_a"]
        entry = self.config["datasets"][dataset]
        regression = entry["task"] == "regression"
        return {
            "entry": entry,
            "sampler": a["sampler"],
            "prior": a["prior"] if regression else {"sigma2": a["prior"]["sigma2"]},
            "likelihood": "softmax_logits" if regression else a["likelihood"]["classification"],
            "seed": self.config["seed"],
        }

    def full_key(self, dataset: str) -> str:
        return _digest(self.full_settings(dataset))

    def cell_settings(self, dataset: str) -> dict[str, Any]:
        """What pruning, resampling and evaluation depend on (the cell job's params)."""
        assert self.config is not None
        a = self.config["method_a"]
        return self.full_settings(dataset) | {
            "pruning": a["pruning"],
            "resample": a["resample"],
            "evaluation": a["evaluation"],
        }


def build_grid(cfg: dict[str, Any], load_other: Callable[[str], dict[str, Any]]) -> list[Cell]:
    """Every cell of the ablation of the validated config ``cfg`` (its ``ablation`` block)
    against ``load_other(ablation.against)`` (a validated config): the start ``label`` and
    the start ``against_label``, each with ``base`` and every listed switch."""
    abl = cfg["ablation"]
    names = list(abl["datasets"])
    other = load_other(abl["against"])
    for name in names:
        if name not in other["datasets"]:
            raise ConfigError(
                f"ablation.datasets: '{name}' is not defined in {abl['against']} "
                f"(defined: {sorted(other['datasets'])})"
            )
    for label, c in ((abl["label"], cfg), (abl["against_label"], other)):
        if c["method_a"]["sampler"]["init"] != "prior":
            raise ConfigError(
                f"ablation: the {label} config has method_a.sampler.init: "
                f"{c['method_a']['sampler']['init']}; the ablation starts every chain from the "
                "prior (init: prior), so that it needs no trained network"
            )
    cells = []
    starts = abl.get("starts") or [abl["label"], abl["against_label"]]
    unknown = sorted(set(starts) - {abl["label"], abl["against_label"]})
    if unknown:
        raise ConfigError(
            f"ablation.starts: {unknown} name neither config; use {abl['label']!r} and/or "
            f"{abl['against_label']!r}"
        )
    for label, start, target in ((abl["label"], cfg, other), (abl["against_label"], other, cfg)):
        if label not in starts:
            continue
        cells.append(Cell(label, "base", shortened(start, abl)))
        for switch in abl["switches"]:
            raw = switched(start, target, switch, names)
            changed = tuple(
                p for p in switch_paths(switch, names) if get_path(raw, p) != get_path(start, p)
            )
            try:
                checked = validate_config(raw)
            except ConfigError as err:
                reason = str(err).splitlines()[-1].strip(" -")
                cells.append(Cell(label, switch, None, f"not applicable: {reason}", changed))
                continue
            if not changed:
                cells.append(Cell(label, switch, None, "no change: both configs agree", changed))
                continue
            cells.append(Cell(label, switch, shortened(checked, abl), "", changed))
    return cells


# ---------------------------------------------------------------------------- the jobs
def _split(name: str, entry: dict[str, Any], raw: Any, rep: int) -> tuple[dict, dict]:
    from bayesprune.data.splits import prepare_split

    return prepare_split(name, entry, raw, rep)


def _spec(meta: dict[str, Any], entry: dict[str, Any]) -> Any:
    from bayesprune.networks import MLPSpec

    return MLPSpec.from_config(meta["n_features"], meta["n_outputs"], entry["network"])


def run_full(
    name: str, raw: Any, settings: dict[str, Any], replicates: int, logger: Any = None
) -> dict[str, np.ndarray]:
    """Sample the full posterior of every replicate of dataset ``name`` (``raw``: its
    :class:`bayesprune.data.raw.RawDataset`) with a cell's :meth:`Cell.full_settings`.

    Returns arrays ``theta{r}`` ``(chains, draws, P)``, ``tau2{r}`` (regression),
    ``acceptance{r}`` and ``seconds{r}``. A chain that never moved is kept (its acceptance
    0 says so in the tables).
    """
    from bayesprune.likelihoods import PriorSettings
    from bayesprune.mcmc.settings import SamplerSettings
    from bayesprune.sampling import sample_network

    entry = settings["entry"]
    out: dict[str, np.ndarray] = {}
    for rep in range(replicates):
        arrays, meta = _split(name, entry, raw, rep)
        spec = _spec(meta, entry)
        seed = derive_seed(settings["seed"], "ablation", name, rep)
        idata = sample_network(
            spec,
            meta["task"],
            arrays["X_train"],
            arrays["y_train"],
            prior=PriorSettings.from_params(settings["prior"]),
            settings=SamplerSettings.from_params(settings["sampler"]),
            seed=seed,
            likelihood=settings["likelihood"],
            logger=logger,
            allow_stuck=True,
        )
        post = idata.posterior
        out[f"theta{rep}"] = post["theta"].transpose("chain", "draw", "param").values
        if "tau2" in post:
            out[f"tau2{rep}"] = post["tau2"].transpose("chain", "draw").values
        out[f"acceptance{rep}"] = np.asarray(json.loads(post.attrs["acceptance_rate"]))
        out[f"seconds{rep}"] = np.array(float(post.attrs["elapsed_s"]))
    return out


def _rows(base: dict[str, Any], stage: str, errors: dict[str, float]) -> list[dict[str, Any]]:
    return [base | {"stage": stage, "estimate": e, "value": errors[e]} for e in ESTIMATES]


@dataclass(frozen=True)
class _Replicate:
    """One replicate of a cell's dataset: its split, metadata, evaluation rows and full
    posterior arrays (:func:`run_full`'s)."""

    name: str
    settings: dict[str, Any]
    rep: int
    arrays: dict
    meta: dict
    ev: dict
    full: dict[str, np.ndarray]


def _unpack(r: _Replicate) -> tuple:
    """``r``'s fields in order, not copied."""
    return tuple(getattr(r, f.name) for f in fields(r))


def run_cell(
    name: str,
    raw: Any,
    full: dict[str, np.ndarray],
    settings: dict[str, Any],
    replicates: int,
    logger: Any = None,
) -> pd.DataFrame:
    """The headline numbers of one cell and dataset from its full posterior ``full``
    (:func:`run_full`'s arrays): one row per replicate, run, stage, criterion, rate and
    estimate (``value``: RMSE of the modelled target, or accuracy)."""
    from bayesprune.evaluation import evaluation_split

    rows: list[dict[str, Any]] = []
    for rep in range(replicates):
        arrays, meta = _split(name, settings["entry"], raw, rep)
        ev = evaluation_split(
            arrays,
            settings["evaluation"]["split"],
            derive_seed(settings["seed"], "ablation-evaluation", name, rep),
        )
        r = _Replicate(name, settings, rep, arrays, meta, ev, full)
        pruned_rows, entries, drawn = _pruned_rows(r)
        rows += pruned_rows
        rows += _resampled_rows(r, entries, drawn, logger)
    frame = pd.DataFrame(rows)
    frame.insert(0, "dataset", name)
    return frame


def _pruned_rows(r: _Replicate) -> tuple[list[dict[str, Any]], list, dict[str, np.ndarray]]:
    """Replicate ``rep``'s full and pruned rows, the (cell, run, mask) of every pruned
    network, and each run's (aligned) draws."""
    from bayesprune.evaluation import evaluation_split, headline_errors
    from bayesprune.pruning import criterion_scores, make_mask
    from bayesprune.runs import run_draws, runs_of

    name, settings, rep, arrays, meta, ev, full = _unpack(r)
    entry, pruning = settings["entry"], settings["pruning"]
    spec, task = _spec(meta, entry), meta["task"]
    metric = "rmse" if task == "regression" else "acc"
    held = evaluation_split(arrays, "heldout")
    theta, acc = full[f"theta{rep}"], full[f"acceptance{rep}"]
    rows: list[dict[str, Any]] = []
    entries, drawn = [], {}
    for run in runs_of(pruning["unit"], theta.shape[0]):
        draws = run_draws(spec, theta, run)
        drawn[run.label] = draws
        base = {
            "rep": rep,
            "run": run.label,
            "metric": metric,
            "criterion": "",
            "rate": 0.0,
            "acceptance": float(np.mean(acc[list(run.chains)])),
        }
        rows += _rows(
            base, "full", headline_errors(spec, task, draws, held["X_test"], held["y_test"])
        )
        for criterion in pruning["criteria"]:
            score = criterion_scores(
                draws,
                criterion,
                spec,
                seed=derive_seed(settings["seed"], "ablation-scores", name, rep, run.label),
                rnd=pruning["rnd"],
            )
            for rate in pruning["rates"]:
                pruned = make_mask(score, rate, spec, pruning["scope"], pruning["include_biases"])
                cell = base | {"criterion": criterion, "rate": float(rate)}
                rows += _rows(
                    cell,
                    "pruned",
                    headline_errors(spec, task, draws, ev["X_test"], ev["y_test"], pruned),
                )
                entries.append((cell, run, pruned))
    return rows, entries, drawn


def _resampled_rows(
    r: _Replicate, entries: list, drawn: dict[str, np.ndarray], logger: Any
) -> list[dict[str, Any]]:
    """Every (run, criterion, rate) of replicate ``rep`` resampled in one batch, as the
    resample job does, and their rows."""
    from bayesprune.evaluation import headline_errors

    spec, task, ev = _spec(r.meta, r.settings["entry"]), r.meta["task"], r.ev
    rows: list[dict[str, Any]] = []
    res, sub = _resample_batch(r, spec, entries, drawn, logger)
    for (cell, _, pruned), info in zip(entries, sub, strict=True):
        chains = info["sub_chains"]
        draws = res.posterior["theta"].transpose("chain", "draw", "param").values[chains]
        rate_acc = np.asarray(json.loads(res.posterior.attrs["acceptance_rate"]))[chains]
        errors = headline_errors(spec, task, draws, ev["X_test"], ev["y_test"], pruned)
        rows += _rows(cell | {"acceptance": float(rate_acc.mean())}, "resampled", errors)
    return rows


def _resample_batch(
    r: _Replicate, spec: Any, entries: list, drawn: dict[str, np.ndarray], logger: Any
) -> tuple[Any, list]:
    """The resampled posterior of every pruned network of replicate ``rep`` and each one's
    sub-chains."""
    import arviz as az
    import xarray as xr

    from bayesprune.likelihoods import PriorSettings
    from bayesprune.mcmc.settings import SamplerSettings
    from bayesprune.pruning import mask_to_dict
    from bayesprune.resampling import resample_starts
    from bayesprune.runs import runs_of
    from bayesprune.sampling import sample_network

    name, settings, rep, arrays, meta, _, full = _unpack(r)
    pruning, resample = settings["pruning"], settings["resample"]
    theta, tau2 = full[f"theta{rep}"], full.get(f"tau2{rep}")
    runs_theta = np.concatenate(
        [drawn[run.label] for run in runs_of(pruning["unit"], theta.shape[0])]
    )
    post_vars = {"theta": (("chain", "draw", "param"), runs_theta)}
    if tau2 is not None:
        post_vars["tau2"] = (("chain", "draw"), tau2)
    idata = az.InferenceData(posterior=xr.Dataset(post_vars))
    masks = {
        "unit": pruning["unit"],
        "runs": [run.to_dict() | mask_to_dict(pruned, spec) for _, run, pruned in entries],
    }
    # run_draws aligns again: the runs' draws above are already aligned (a no-op then)
    theta0, chain_mask, tau2_0, sub = resample_starts(
        idata,
        spec,
        masks,
        chains_per_run=resample["chains_per_run"],
        start=resample["sub_chain_start"],
        jitter=resample["init_jitter"],
        seed=derive_seed(settings["seed"], "ablation-resample", name, rep),
    )
    res = sample_network(
        spec,
        meta["task"],
        arrays["X_train"],
        arrays["y_train"],
        prior=PriorSettings.from_params(settings["prior"]),
        settings=SamplerSettings.from_params(resample),
        seed=derive_seed(settings["seed"], "ablation-resample", name, rep),
        theta_start=theta0,
        tau2_start=tau2_0,
        mask=chain_mask,
        likelihood=settings["likelihood"],
        logger=logger,
        allow_stuck=True,
    )
    return res, sub


def cells_of(cells: list[Cell], start: str, dataset: str) -> list[dict[str, Any]]:
    """The cells of ``start`` that change anything for ``dataset`` (the base first), each as
    ``{switch, full_key, full, cell}`` settings: the params of one ablation job."""
    base = next(c for c in cells if c.start == start and c.switch == "base")
    out = []
    for c in cells:
        if c.start != start or not c.applicable:
            continue
        settings = c.cell_settings(dataset)
        if c.switch != "base" and settings == base.cell_settings(dataset):
            continue  # e.g. the classification likelihood on a regression set
        out.append(
            {
                "switch": c.switch,
                "full_key": c.full_key(dataset),
                "full": c.full_settings(dataset),
                "cell": settings,
            }
        )
    return out


def run_start(
    name: str, raw: Any, cells: list[dict[str, Any]], replicates: int, logger: Any = None
) -> pd.DataFrame:
    """Every cell of one start config on dataset ``name`` (:func:`cells_of`); cells with the
    same full-posterior settings share one sampled posterior."""
    import time

    fulls: dict[str, dict[str, np.ndarray]] = {}
    frames = []
    for cell in cells:
        t0 = time.perf_counter()
        if cell["full_key"] not in fulls:
            fulls[cell["full_key"]] = run_full(name, raw, cell["full"], replicates, logger)
        t1 = time.perf_counter()
        frame = run_cell(name, raw, fulls[cell["full_key"]], cell["cell"], replicates, logger)
        frame.insert(0, "switch", cell["switch"])
        frames.append(frame)
        if logger is not None:
            logger.info(
                "%s: full posterior %.1f s, pruning/resampling %.1f s",
                cell["switch"],
                t1 - t0,
                time.perf_counter() - t1,
            )
    return pd.concat(frames, ignore_index=True)
