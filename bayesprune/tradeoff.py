"""Method B trade-off study: gated variants against magnitude baselines (ShrinkBench style).

Pruning papers are compared on accuracy against compression, at matched sparsity, over
several seeds (Blalock et al. 2020, "What is the state of neural network pruning?"). One
call of :func:`run_tradeoff` runs, for one seed and one data split:

* ``unpruned``: the dense network (the reference line);
* every gated variant of the grid (:func:`grid_variants`: per criterion, a base setting of
  ``beta``, ``rates``, ``likelihood_scale`` and ``prior_sigma2`` and one change at a time,
  or the full product): ``bayes_magnitude`` or ``bayes_random``;
* ``gradual_magnitude`` (Zhu & Gupta 2017) and ``oneshot_magnitude`` (train dense, prune
  once by magnitude at ``oneshot_epoch``, fine-tune for the remaining epochs) at every
  sparsity a gated variant reached (``matched``) and at the fixed ``baseline_sparsities``.

Every run uses the same seed, hence the same initial network and batch order: comparisons
within a seed are paired. Each row holds the run's settings and its outcome: test accuracy,
sparsity of the prunable weights, compression ratio (all parameters / kept parameters) and
FLOPs per example (:func:`bayesprune.masked_networks.flops`, dense and sparse counts).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayesprune.bayes_factor import GateSettings, check_rates
from bayesprune.masked_networks import MaskedNetworkSpec
from bayesprune.sparse_training import TrainSettings, train_method

COLUMNS = (
    "method",
    "variant",
    "criterion",
    "beta",
    "rates",
    "likelihood_scale",
    "effective_sample_size",
    "prior_sigma2",
    "target_sparsity",
    "matched",
    "test_acc",
    "train_acc",
    "test_loss",
    "sparsity",
    "param_sparsity",
    "n_params",
    "kept_params",
    "compression",
    "dense_flops",
    "sparse_flops",
    "accepted_steps",
    "seconds",
)
BASELINES = ("gradual_magnitude", "oneshot_magnitude")
GATED_METHOD = {"magnitude": "bayes_magnitude", "random": "bayes_random"}


@dataclass(frozen=True)
class Variant:
    """One gated setting of the grid."""

    criterion: str
    beta: float
    rates: tuple[float, ...]
    likelihood_scale: float | str
    prior_sigma2: float

    @property
    def method(self) -> str:
        return GATED_METHOD[self.criterion]

    def scale(self, n: int) -> float:
        """The factor on the summed log likelihood for ``n`` training examples."""
        if self.likelihood_scale == "sum":
            return 1.0
        if self.likelihood_scale == "mean":
            return 1.0 / n
        return float(self.likelihood_scale)

    def gate(self, n: int) -> GateSettings:
        """The gate of this variant for ``n`` training examples (summed likelihood, scaled)."""
        return GateSettings(self.rates, self.beta, self.prior_sigma2, "sum", self.scale(n))

    @property
    def label(self) -> str:
        rates = ",".join(f"{r:g}" for r in self.rates)
        scale = self.likelihood_scale
        scale_text = scale if isinstance(scale, str) else f"{scale:g}"
        return (
            f"{self.criterion} beta={self.beta:g} rates=[{rates}] scale={scale_text} "
            f"s2={self.prior_sigma2:g}"
        )


def grid_variants(grid: Mapping[str, Any]) -> list[Variant]:
    """The gated variants of a grid (the ``tradeoff`` block of the config), per criterion.

    ``design: one_at_a_time`` (default): the first entry of each of the ``beta``, ``rates``,
    ``likelihood_scale`` and ``prior_sigma2`` lists is the base setting; the base runs, and
    each other entry runs with the rest at the base (1 + sum of (len - 1) variants).
    ``design: product``: every combination (the product of the list lengths).
    """
    keys = ("beta", "rates", "likelihood_scale", "prior_sigma2")
    for key in ("criteria", *keys):
        if not grid.get(key):
            raise ValueError(f"tradeoff grid: `{key}` must be a non-empty list")
    design = grid.get("design", "one_at_a_time")
    if design == "product":
        combos = list(itertools.product(*(grid[k] for k in keys)))
    elif design == "one_at_a_time":
        base = tuple(grid[k][0] for k in keys)
        combos = [base]
        for i, k in enumerate(keys):
            for value in grid[k][1:]:
                combos.append(base[:i] + (value,) + base[i + 1 :])
    else:
        raise ValueError(f"tradeoff grid: design must be one_at_a_time or product, got {design!r}")
    out = []
    for crit in grid["criteria"]:
        if crit not in GATED_METHOD:
            raise ValueError(f"tradeoff grid: criterion must be one of {sorted(GATED_METHOD)}")
        for beta, rates, scale, s2 in combos:
            scale = scale if isinstance(scale, str) else float(scale)
            v = Variant(crit, float(beta), check_rates(rates), scale, float(s2))
            if v not in out:
                out.append(v)
    return out


GATE_SETTINGS = ("beta", "rates", "likelihood_scale", "effective_sample_size", "prior_sigma2")


@dataclass(frozen=True)
class TradeoffSettings:
    """The study's settings: training (``method_b.train``), the gated variants of the grid
    (``method_b.tradeoff``), the fixed sparsities of the baselines and the one-shot epoch."""

    train: TrainSettings
    variants: tuple[Variant, ...]
    baseline_sparsities: tuple[float, ...] = ()
    oneshot_epoch: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TradeoffSettings:
        """From ``{"train": method_b.train, "grid": method_b.tradeoff without seeds}``."""
        grid = params["grid"]
        return cls(
            train=TrainSettings.from_params(params["train"]),
            variants=tuple(grid_variants(grid)),
            baseline_sparsities=tuple(grid.get("baseline_sparsities", [])),
            oneshot_epoch=grid.get("oneshot_epoch"),
        )


def _row(final: Mapping[str, Any], gated: bool = False, **extra: Any) -> dict[str, Any]:
    """A study row from a run's summary; the gate's settings only where a gate ran."""
    row = {k: final.get(k) for k in COLUMNS if k in final}
    if not gated:
        row.update(dict.fromkeys(GATE_SETTINGS))
    row.update(extra)
    return row


def run_tradeoff(
    split: Mapping[str, Any],
    network: MaskedNetworkSpec,
    settings: TradeoffSettings,
    seed: int,
    *,
    n_classes: int | None = None,
    device: str = "cpu",
    threads: int | None = None,
    log: Callable[[str], Any] | None = None,
) -> pd.DataFrame:
    """Run the study for one seed (see the module docstring); one row per run (:data:`COLUMNS`).

    ``split``: ``X_train``, ``y_train``, ``X_test``, ``y_test``; ``network``: the masked
    network.
    """

    def run(method: str, gate: GateSettings | None = None, **kw: Any) -> dict[str, Any]:
        return train_method(
            method, split, network, settings.train, gate, n_classes=n_classes,
            seed=int(seed), device=device, threads=threads, **kw,
        ).final  # fmt: skip

    say = log if log is not None else (lambda text: None)
    dense = run("unpruned")
    rows = [_row(dense, variant="dense", matched=False)]
    say(f"unpruned: test_acc {dense['test_acc']:.4f}")
    reached = []
    for v in settings.variants:
        f = run(v.method, v.gate(len(split["X_train"])))
        rates = ",".join(f"{r:g}" for r in v.rates)
        rows.append(
            _row(f, gated=True, variant=v.label, criterion=v.criterion, rates=rates, matched=False)
        )
        reached.append(f["sparsity"])
        say(
            f"{v.label}: test_acc {f['test_acc']:.4f} sparsity {f['sparsity']:.4f} "
            f"accepted {f['accepted_steps']} steps"
        )
    matched = {round(s, 6) for s in reached if s > 0}
    fixed = {round(float(s), 6) for s in settings.baseline_sparsities}
    for target in sorted(matched | fixed):
        for method in BASELINES:
            f = run(method, final_sparsity=target, oneshot_epoch=settings.oneshot_epoch)
            rows.append(
                _row(f, variant=f"sparsity {target:.4f}", target_sparsity=target,
                     matched=target in matched)
            )  # fmt: skip
            say(f"{method} -> {target:.4f}: test_acc {f['test_acc']:.4f}")
    return _study_frame(rows)


def _study_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    frame["matched"] = frame["matched"].astype(bool)
    return frame[list(COLUMNS)]


def matched_comparison(study: pd.DataFrame) -> pd.DataFrame:
    """Each gated run beside gradual and one-shot magnitude pruning at its own sparsity
    (same dataset and seed): accuracy of each and the gated run's margin over each."""
    keys = ["dataset", "seed"] if "dataset" in study.columns else ["seed"]
    gated = study[study["method"].isin(list(GATED_METHOD.values()))].copy()
    gated["key"] = gated["sparsity"].round(6)
    out = gated[
        [*keys, "method", "variant", "sparsity", "compression", "sparse_flops", "test_acc", "key"]
    ]
    for method in BASELINES:
        base = study[(study["method"] == method) & study["matched"].astype(bool)].copy()
        base["key"] = base["target_sparsity"].astype(float).round(6)
        base = base[[*keys, "key", "test_acc"]].rename(columns={"test_acc": f"{method}_acc"})
        out = out.merge(base, on=[*keys, "key"], how="left")
        out[f"margin_vs_{method}"] = out["test_acc"] - out[f"{method}_acc"]
    return out.drop(columns="key")


def summarise_tradeoff(study: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, min and max over seeds per dataset, method and variant (baselines: per
    target sparsity) of accuracy, sparsity, compression and FLOPs."""
    keys = [k for k in ("dataset", "method", "variant") if k in study.columns]
    values = ["test_acc", "sparsity", "compression", "dense_flops", "sparse_flops"]
    agg = study.groupby(keys, sort=False)[values].agg(["mean", "std", "min", "max"])
    agg.columns = [f"{v}_{s}" for v, s in agg.columns]
    agg["seeds"] = study.groupby(keys, sort=False)["test_acc"].size()
    out = agg.reset_index()
    # dense first, then the gated methods (variants in grid order), then the baselines by
    # target sparsity
    order = {"unpruned": 0, **{m: 1 + i for i, m in enumerate(GATED_METHOD.values())}}
    out["_m"] = out["method"].map(
        lambda m: order.get(m, 10 + BASELINES.index(m) if m in BASELINES else 20)
    )
    out["_s"] = np.where(out["method"].isin(BASELINES), out["sparsity_mean"], 0.0)
    out["_i"] = np.arange(len(out))
    sort = [k for k in ("dataset",) if k in out.columns] + ["_m", "_s", "_i"]
    return out.sort_values(sort).drop(columns=["_m", "_s", "_i"]).reset_index(drop=True)


def reaches(
    study: pd.DataFrame, min_sparsity: float = 0.95, max_drop: float = 0.01
) -> pd.DataFrame:
    """Rows of :func:`summarise_tradeoff` whose mean sparsity is at least ``min_sparsity`` and
    whose mean accuracy is within ``max_drop`` of the dense network's mean (the paper's claim).
    Both comparisons allow 1e-9 for the rounding of sparsities and accuracies summed in floats."""
    summary = summarise_tradeoff(study)
    group = [k for k in ("dataset",) if k in summary.columns]
    dense = summary[summary["method"] == "unpruned"].set_index(group or ["method"])
    ref = (
        summary[group[0]].map(dense["test_acc_mean"])
        if group
        else pd.Series(dense["test_acc_mean"].iloc[0], index=summary.index)
    )
    ok = (summary["sparsity_mean"] >= min_sparsity - 1e-9) & (
        summary["test_acc_mean"] >= ref - max_drop - 1e-9
    )
    return summary[ok & (summary["method"] != "unpruned")]


def tradeoff_markdown(study: pd.DataFrame, digits: int = 4) -> str:
    """The study's summary (mean ± std over seeds) and the matched comparison, as Markdown."""
    from bayesprune.tables import to_markdown

    summary = summarise_tradeoff(study)
    table = pd.DataFrame(
        {k: summary[k] for k in ("dataset", "method", "variant") if k in summary.columns}
    )

    def pm(col: str, scale: float = 1.0, fmt: str = ".2f") -> pd.Series:
        m, s = summary[f"{col}_mean"] * scale, summary[f"{col}_std"].fillna(0) * scale
        return pd.Series([f"{a:{fmt}} ± {b:{fmt}}" for a, b in zip(m, s, strict=True)])

    table["test accuracy (%)"] = pm("test_acc", 100)
    table["sparsity (%)"] = pm("sparsity", 100)
    table["compression"] = pm("compression", 1, ".1f")
    table["dense FLOPs"] = summary["dense_flops_mean"].round().astype(int)
    table["sparse FLOPs"] = summary["sparse_flops_mean"].round().astype(int)
    table["seeds"] = summary["seeds"]
    comp = matched_comparison(study)
    mkeys = [k for k in ("dataset", "method", "variant") if k in comp.columns]
    m = comp.groupby(mkeys, sort=False).agg(
        sparsity=("sparsity", "mean"),
        gated=("test_acc", "mean"),
        gmp=("gradual_magnitude_acc", "mean"),
        oneshot=("oneshot_magnitude_acc", "mean"),
        margin_gmp=("margin_vs_gradual_magnitude", "mean"),
        margin_oneshot=("margin_vs_oneshot_magnitude", "mean"),
        seeds=("test_acc", "size"),
    )
    m = m.reset_index()
    for col in ("sparsity", "gated", "gmp", "oneshot", "margin_gmp", "margin_oneshot"):
        m[col] = (100 * m[col]).round(2)
    m = m.rename(
        columns={
            "sparsity": "sparsity (%)",
            "gated": "gated acc (%)",
            "gmp": "GMP acc (%)",
            "oneshot": "one-shot acc (%)",
            "margin_gmp": "gated - GMP (points)",
            "margin_oneshot": "gated - one-shot (points)",
        }
    )
    return (
        "Trade-off (mean ± std over seeds)\n\n"
        + to_markdown(table)
        + "\n\nGated runs against magnitude pruning at the same sparsity (same seed), "
        "means over seeds\n\n" + to_markdown(m) + "\n"
    )
