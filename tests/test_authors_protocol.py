"""config/authors.yaml, its bug-compatible keys and the ablation (bayesprune.ablation)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from smk import SHARED, snakemake

from bayesprune import ablation, ablation_tables, authors
from bayesprune.config import ConfigError, load_config_file, validate_config
from bayesprune.data.readers import read_dataset
from bayesprune.data.splits import prepare_split
from bayesprune.evaluation import evaluation_split
from bayesprune.networks import MLPSpec
from bayesprune.pruning import criterion_scores, make_mask

ROOT = Path(__file__).resolve().parent.parent
BUG_COMPATIBLE = {
    "method_a.sampler.drift": "sgd_epoch",
    "method_a.sampler.q_ratio": "authors",
    "method_a.sampler.chains": 1,
    "method_a.sampler.adapt": False,
    "method_a.resample.drift": "sgd_epoch",
    "method_a.resample.q_ratio": "authors",
    "method_a.resample.mask": "by_value",
    "method_a.likelihood.classification": "softmax_sigmoid",
    "method_a.prior.eta_jacobian": False,
    "method_a.pruning.rnd": "first_k",
    "method_a.evaluation.split": "reshuffled",
}


def _get(cfg, path):
    for part in path.split("."):
        cfg = cfg[part]
    return cfg


def test_authors_config_holds_every_bug_compatible_choice_and_no_default_does():
    cfg = load_config_file(ROOT / "config/authors.yaml")
    for path, value in BUG_COMPATIBLE.items():
        assert _get(cfg, path) == value, path
    for name in cfg["method_a"]["datasets"]:
        assert cfg["datasets"][name]["preprocessing"]["fit_on"] == "all"
    defaults = validate_config(
        {
            "datasets": {
                "x": {"task": "regression", "source": {"kind": "sklearn", "name": "diabetes"}}
            }
        }
    )
    for name in ("config/config.yaml", "config/paper.yaml"):
        cfg = load_config_file(ROOT / name)
        for path, value in BUG_COMPATIBLE.items():
            if path in ("method_a.sampler.chains", "method_a.sampler.adapt"):
                continue  # ordinary settings (the paper config adapts, with 4 chains)
            assert _get(cfg, path) != value, (name, path)
            assert _get(defaults, path) != value, path
        assert all(d["preprocessing"]["fit_on"] == "train" for d in cfg["datasets"].values())


def test_config_readme_marks_every_bug_compatible_key():
    text = (ROOT / "config/README.md").read_text()
    for path in [*BUG_COMPATIBLE, "preprocessing.fit_on"]:
        key = path.split(".", 1)[-1] if path.startswith("method_a.") else path
        line = next((ln for ln in text.splitlines() if f"`{key}`" in ln), "")
        assert "[bug-compatible]" in line, key


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sampler": {"q_ratio": "authors"}}, "method_a.sampler.q_ratio"),
        ({"resample": {"mask": "by_value"}}, "method_a.resample.mask"),
        ({"resample": {"adapt": True, "burn_in": 0}}, "method_a.resample.adapt"),
        ({"sampler": {"drift": "sgd_epoch"}, "datasets": ["deep"]}, "datasets.deep.network"),
        ({"sampler": {"drift": "sideways"}}, "method_a.sampler.drift"),
    ],
)
def test_bad_bug_compatible_settings_are_clear_config_errors(change, message):
    datasets = {
        "d": {"task": "regression", "source": {"kind": "sklearn", "name": "diabetes"}},
        "deep": {
            "task": "regression",
            "source": {"kind": "sklearn", "name": "diabetes"},
            "network": {"hidden": [4, 4]},
        },
    }
    a = {"datasets": change.pop("datasets", ["d"])}
    a.update(change)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate_config({"datasets": datasets, "method_a": a})


def test_ablation_needs_the_other_config():
    datasets = {"d": {"task": "regression", "source": {"kind": "sklearn", "name": "diabetes"}}}
    with pytest.raises(ConfigError, match="ablation.against"):
        validate_config({"datasets": datasets, "ablation": {"datasets": ["d"]}})


def _diabetes(fit_on):
    entry = {
        "task": "regression",
        "source": {"kind": "sklearn", "name": "diabetes"},
        "preprocessing": {"features": "minmax", "target": "minmax", "fit_on": fit_on},
    }
    entry = validate_config({"datasets": {"d": entry}})["datasets"]["d"]
    return prepare_split("d", entry, read_dataset("d", entry, {}), 0)


def test_min_max_on_all_rows_leaks_the_test_rows_into_the_scaler():
    (leak, leak_meta), (clean, clean_meta) = _diabetes("all"), _diabetes("train")
    X = np.concatenate([leak["X_train"], leak["X_test"]])
    np.testing.assert_allclose(X.min(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(X.max(axis=0), 1.0, atol=1e-6)
    assert leak["X_test"].min() >= -1e-6 and leak["X_test"].max() <= 1 + 1e-6  # inside
    # the test rows moved the scalers: the fit differs from the training rows' own
    assert not np.allclose(
        leak_meta["feature_scaler"]["center"], clean_meta["feature_scaler"]["center"]
    )
    outside = (clean["X_test"] < 0) | (clean["X_test"] > 1)
    assert outside.any()  # fitted on training rows, some test rows fall outside [0, 1]


def test_reshuffled_evaluation_split_puts_about_60_percent_training_rows_in_test():
    split = _diabetes("train")[0]
    same = evaluation_split(split, "heldout")
    assert same is split
    ev = evaluation_split(split, "reshuffled", seed=3)
    assert len(ev["y_test"]) == len(split["y_test"]) and len(ev["y_train"]) == len(split["y_train"])
    train_rows = {tuple(r) for r in split["X_train"]}
    share = np.mean([tuple(r) in train_rows for r in ev["X_test"]])
    assert abs(share - 0.6) < 0.08
    rows = np.concatenate([ev["X_train"], ev["X_test"]])
    orig = np.concatenate([split["X_train"], split["X_test"]])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, orig))
    with pytest.raises(ValueError, match="evaluation split"):
        evaluation_split(split, "sometimes")


def test_first_k_rnd_mask_is_the_first_entries_of_their_layout():
    spec = MLPSpec((4, 5, 1), "sigmoid", "sigmoid")
    draws = np.random.default_rng(0).normal(size=(50, spec.n_params))
    score = criterion_scores(draws, "rnd", spec, seed=1, rnd="first_k")
    pruned = make_mask(score, 0.25, spec)
    index, _ = authors.their_order(spec)
    k = int(np.ceil(0.25 * spec.n_params))
    np.testing.assert_array_equal(pruned, np.sort(index[:k]))
    # their first 8 entries: W1[0, :] (input 0 to all 5 hidden units, disconnected), then
    # W1[1, :3]; ours stores W (hidden, input) row-major, entry h * 4 + d
    assert set(pruned) == {h * 4 for h in range(5)} | {h * 4 + 1 for h in range(3)}
    uniform = make_mask(criterion_scores(draws, "rnd", spec, seed=1), 0.25, spec)
    assert not np.array_equal(uniform, pruned)


def _grid():
    cfg = load_config_file(ROOT / "config/authors.yaml")
    return cfg, ablation.build_grid(cfg, lambda p: load_config_file(ROOT / p))


def test_ablation_grid_switches_one_group_of_keys_each_way():
    cfg, cells = _grid()
    by = {(c.start, c.switch): c for c in cells}
    assert {c.start for c in cells} == {"authors", "paper"}
    prop = by[("authors", "proposal")].config
    assert prop["method_a"]["sampler"]["drift"] == "gradient"
    assert prop["method_a"]["sampler"]["chains"] == 1  # everything else stays the authors'
    assert prop["method_a"]["likelihood"]["classification"] == "softmax_sigmoid"
    assert by[("paper", "proposal")].config["method_a"]["sampler"]["drift"] == "sgd_epoch"
    assert not by[("paper", "q_ratio")].applicable  # their ratio without their drift
    assert "not applicable" in by[("paper", "q_ratio")].reason
    for c in cells:  # shortened alike
        if c.applicable:
            assert c.config["method_a"]["sampler"]["samples"] == cfg["ablation"]["samples"]
    base = by[("authors", "base")]
    for switch in ("rnd", "evaluation"):  # the same full chains as the start
        assert by[("authors", switch)].full_key("iris") == base.full_key("iris")
    assert by[("authors", "proposal")].full_key("iris") != base.full_key("iris")
    names = [c["switch"] for c in ablation.cells_of(cells, "authors", "lazer")]
    assert names[0] == "base" and "likelihood" not in names and "noise_prior" in names
    names = [c["switch"] for c in ablation.cells_of(cells, "authors", "iris")]
    assert "likelihood" in names and "noise_prior" not in names


def test_effects_are_switched_minus_start_and_worse_is_positive():
    rows = []
    for switch, acc, rmse in (("base", 0.9, 0.10), ("rnd", 0.8, 0.15)):
        for metric, value, name in (("acc", acc, "iris"), ("rmse", rmse, "lazer")):
            rows.append(
                dict(
                    start="a",
                    switch=switch,
                    dataset=name,
                    metric=metric,
                    stage="full",
                    criterion="",
                    rate=0.0,
                    estimate="point",
                    value=value,
                )
            )
    eff = ablation_tables.effects(ablation_tables.summarise(pd.DataFrame(rows))).set_index(
        "dataset"
    )
    assert eff.loc["iris", "change"] == pytest.approx(-0.1)
    assert eff.loc["iris", "error_change"] == pytest.approx(0.1)
    assert eff.loc["lazer", "error_change"] == pytest.approx(0.05)
    rel = ablation_tables.relative_effects(eff.reset_index()).set_index("dataset")["relative"]
    assert rel["iris"] == pytest.approx(1.0) and rel["lazer"] == pytest.approx(0.5)


@pytest.mark.slow
def test_authors_config_dry_runs_the_protocol_and_the_ablation(tmp_path):
    args = ["--configfile", str(ROOT / "config/authors.yaml"), "--config", f"mirror={SHARED}"]
    result = snakemake(tmp_path, "ablation", "all", *args, "--dry-run", "--quiet", "rules")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-5000:]
    for rule in (
        "sample",
        "prune",
        "resample",
        "ablation_run",
        "ablation_table",
        "ablation_figure",
    ):
        assert rule in out, rule


@pytest.mark.slow
def test_tiny_authors_run_and_ablation_end_to_end(tmp_path):
    if not SHARED.is_dir():
        pytest.skip(f"the dataset mirror {SHARED} is missing")
    cfg = ROOT / "tests/configs/tiny_authors.yaml"
    args = ["--configfile", str(cfg), "--config", f"mirror={SHARED}"]
    targets = ["results/tables/pruning.csv", "ablation"]
    result = snakemake(tmp_path, *targets, *args, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    table = pd.read_csv(tmp_path / "results/tables/pruning.csv")
    assert set(table["dataset"]) == {"iris", "diabetes"}
    mask = yaml.safe_load(
        (tmp_path / "results/method_a/iris/rep0/pruned/rnd/0.5/mask.json").read_text()
    )
    spec = MLPSpec((4, 12, 3), "sigmoid", "identity")
    index, _ = authors.their_order(spec)
    assert mask["runs"][0]["pruned"] == sorted(index[: mask["runs"][0]["n_pruned"]].tolist())
    abl = pd.read_csv(tmp_path / "results/tables/ablation_summary.csv")
    assert {"authors", "paper"} == set(abl["start"])
    assert {"base", "proposal", "likelihood", "rnd", "evaluation"} <= set(abl["switch"])
    assert (tmp_path / "results/figures/ablation.png").stat().st_size > 10_000
    assert (
        "## From authors: proposal as in paper"
        in (tmp_path / "results/tables/ablation.md").read_text()
    )
