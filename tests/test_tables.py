"""Gathered tables take every row's keys from its file's path, in the order given."""

from __future__ import annotations

import json

from bayesprune.tables import collect, concat_tables, full_posterior_table, stage_table


def _write(root, rel, content):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_collect_and_concat_put_the_path_keys_first(tmp_path):
    finals = [
        _write(tmp_path, f"results/method_b/d{i}/rep{i}/{m}/final.json", {"test_acc": i})
        for i, m in ((1, "random"), (0, "unpruned"))
    ]
    table = collect(finals)
    assert list(table.columns) == ["dataset", "rep", "method", "test_acc"]
    assert table.values.tolist() == [["d1", 1, "random", 1], ["d0", 0, "unpruned", 0]]
    curves = [
        _write(tmp_path, f"results/method_a/iris/rep{r}/curve.csv", "step,error\n0,0.5\n")
        for r in (2, 0)
    ]
    frame = concat_tables(curves)
    assert frame[["dataset", "rep"]].values.tolist() == [["iris", 2], ["iris", 0]]


def test_stage_rows_match_metrics_to_diagnostics_by_their_keys(tmp_path):
    base = "results/method_a/iris"
    run = {"run": "chain0", "chain": 0}
    metrics = [
        _write(tmp_path, f"{base}/rep{r}/pruned/stn/0.5/metrics.json", {"runs": [run | {"m": r}]})
        for r in (0, 1)
    ]
    # the diagnostics in the other order: rows still pair with their own metrics
    diagnostics = [
        _write(
            tmp_path, f"{base}/rep{r}/pruned/stn/0.5/diagnostics.json", {"runs": [run | {"d": r}]}
        )
        for r in (1, 0)
    ]
    table = stage_table(metrics, diagnostics, "pruned")
    assert (table["m"] == table["diag_d"]).all() and set(table["rate"]) == {0.5}
    assert list(table.columns[:7]) == [
        "stage",
        "dataset",
        "rep",
        "criterion",
        "rate",
        "run",
        "chain",
    ]
    replicate = {
        "predictive": {"acc_test": 0.9},
        "point": {"acc_test": 0.8},
        "point_unaligned": {"acc_test": 0.7},
    }
    diag = {
        "n_chains": 1,
        "modes": {"n_modes": 1},
        **{k: {"rhat_median": 1.0, "rhat_max": 1.1} for k in ("parameter", "parameter_raw")},
    }
    full_m = [
        _write(
            tmp_path,
            f"{base}/rep{r}/full/metrics.json",
            {"runs": [run | {"point": {"acc_test": r}}], "replicate": replicate},
        )
        for r in (0, 1)
    ]
    full_d = [
        _write(
            tmp_path, f"{base}/rep{r}/full/diagnostics.json", {"replicate": diag | {"n_chains": r}}
        )
        for r in (1, 0)
    ]
    full = full_posterior_table(full_m, full_d)
    assert full["rep"].tolist() == [0, 1] and full["n_chains"].tolist() == [0, 1]


def test_the_summary_markdown_shows_the_test_metric_per_stage_readably():
    import pandas as pd

    from bayesprune.tables import SUMMARY_KEYS, summarise, summary_markdown

    runs = pd.DataFrame(
        {
            "dataset": ["d"] * 3,
            "criterion": ["stn"] * 3,
            "rate": [0.5] * 3,
            "stage": ["resampled"] * 3,
            "point_acc_test": [0.90, 0.80, 0.70],
            "predictive_acc_test": [0.95, 0.90, 0.85],
            "size_n_kept": [10, 10, 10],
            "diag_function_loglik_rhat": [1.0, 1.2, 1.4],
            "point_nll_test": [0.1, 0.2, 0.3],  # not shown: the CSV keeps it
        }
    )
    summary = summarise(runs, SUMMARY_KEYS)
    lines = summary_markdown(summary).splitlines()
    assert lines[0] == (
        "| dataset | criterion | rate | stage | runs | metric | point | predictive "
        "| kept params | log-lik R-hat |"
    )
    assert lines[2] == (
        "| d | stn | 0.5 | resampled | 3 | acc_test | 0.800 ± 0.100 (0.700-0.900) "
        "| 0.900 ± 0.050 (0.850-0.950) | 10 | 1.200 ± 0.200 |"
    )
