"""The peer benchmark and the sampling-efficiency harness (benchmarks/), without timing.

jax is not a workflow dependency: everything here runs without it, and the one check that
needs it (the JAX log density against MLPPosterior) is skipped where jax is absent.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_data  # noqa: E402
import kernel_efficiency as ke  # noqa: E402

VARIANTS = [
    {"name": "fixed", "step_size": 0.05},
    {"name": "adapted", "step_size": 0.05, "adapt": True},
    {"name": "mala", "step_size": 0.05, "adapt": True, "langevin_prob": 1.0},
]


def _target(task: str) -> ke.Target:
    sizes = (2, 3, 1) if task == "regression" else (2, 3, 3)
    out = "sigmoid" if task == "regression" else "identity"
    split = bench_data.synthetic_split("tiny", sizes, task, 30, 12, out)
    return ke.target_from_split(split, n_points=4)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_measure_gives_one_finite_row_per_variant(task: str) -> None:
    target = _target(task)
    rows, notes = ke.measure(
        [target], VARIANTS, iterations=300, keep=100, log=lambda s: None, seed=3
    )
    assert [(r.dataset, r.variant) for r in rows] == [("tiny", v["name"]) for v in VARIANTS]
    for r in rows:
        assert r.iterations == 300
        values = [
            r.seconds,
            r.acceptance,
            r.ess_loglik,
            r.ess_pred,
            r.rhat_loglik,
            r.rhat_pred_max,
            r.ess_loglik_per_s,
            r.ess_pred_per_s,
            r.ratio_loglik,
            r.ratio_pred,
        ]
        assert all(math.isfinite(v) for v in values), r
        assert r.seconds > 0 and 0 <= r.acceptance <= 1 and r.ess_loglik > 0
    assert rows[0].ratio_loglik == pytest.approx(1.0)
    assert rows[0].ratio_pred == pytest.approx(1.0)
    assert any("frozen step factors" in n for n in notes)  # the adapted variants say theirs
    table = ke.markdown_table(rows).splitlines()
    assert len(table) == 2 + len(VARIANTS)
    assert table[0].startswith("| dataset | variant |")
    assert all(line.count("|") == table[0].count("|") for line in table)


def test_equal_wall_time_sets_the_count_from_a_pilot() -> None:
    rows, _ = ke.measure(
        [_target("regression")], VARIANTS[:1], seconds=0.2, pilot=100, keep=50, log=lambda s: None
    )
    assert len(rows) == 1 and rows[0].iterations >= 100 and rows[0].iterations % 100 == 0


def test_blackjax_variant_is_skipped_without_jax(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ke, "jax_available", lambda: False)
    variants = [VARIANTS[0], {"name": "peer", "backend": "blackjax"}]
    rows, notes = ke.measure(
        [_target("classification")], variants, iterations=200, keep=50, log=lambda s: None
    )
    assert [r.variant for r in rows] == ["fixed"]
    assert any(n.startswith("peer: skipped") for n in notes)


def test_variant_keys_go_to_the_function_that_takes_them() -> None:
    kw = ke.route(
        {"name": "x", "adapt": True, "langevin_prob": 1.0, "dtype": "float32", "init": "prior"}
    )
    assert kw["run"] == {"adapt": True}
    assert kw["kernel"] == {"langevin_prob": 1.0, "step_size": ke.STEP_SIZE}
    assert kw["posterior"] == {"dtype": "float32"}
    assert kw["init"] == {"init": "prior"}
    with pytest.raises(ValueError, match="not an argument"):
        ke.route({"name": "bad", "no_such_option": 1})


def test_the_default_variants_are_a_plain_list_led_by_the_paper_kernel() -> None:
    assert isinstance(ke.VARIANTS, list) and all(isinstance(v, dict) for v in ke.VARIANTS)
    assert ke.VARIANTS[0].get("step_size") == 0.025 and not ke.VARIANTS[0].get("adapt")
    for v in ke.VARIANTS:
        if v.get("backend", "bayesprune") == "bayesprune":
            ke.route(v)  # every key is understood


def test_peer_script_imports_and_prints_markdown_without_jax() -> None:
    import peer_blackjax

    text = peer_blackjax.markdown([["a", "1"]], ["case", "rate"])
    assert text.splitlines() == ["| case | rate |", "| --- | ---: |", "| a | 1 |"]
    assert [c.chains for c in peer_blackjax.CASES] == [4, 16]


def test_jax_log_density_equals_mlp_posterior() -> None:
    pytest.importorskip("jax")
    pytest.importorskip("blackjax")
    import jax_target

    from bayesprune.likelihoods import PriorSettings, build_posterior
    from bayesprune.mcmc import streams

    for task in ("regression", "classification"):
        split = bench_data.synthetic_split("tiny", (3, 4, 1 if task == "regression" else 3),
                                           task, 40, 5, "sigmoid" if task == "regression" else "identity")  # fmt: skip
        post = build_posterior(
            split.spec, split.X_train, split.y_train, task, PriorSettings.from_params(split.prior)
        )
        jax_target.set_jax_precision(np.float64)
        ld = jax_target.make_logdensity(split.spec, split.X_train, split.y_train, task, split.prior)
        pts = streams.initial_positions(post, 5, seed=2, init="prior")
        err_value, err_grad = jax_target.check_agreement(post, ld, pts, rtol=1e-12)
        assert err_value <= 1e-12 and err_grad <= 1e-12
