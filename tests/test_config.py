"""The config schema rejects bad configs before any job runs, naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bayesprune.config import (
    ConfigError,
    apply_overrides,
    derive_seed,
    load_config_file,
    typed_value,
    validate_config,
)

ROOT = Path(__file__).resolve().parent.parent


def _base() -> dict:
    return yaml.safe_load((ROOT / "tests/configs/tiny.yaml").read_text())


@pytest.mark.parametrize(
    "path", ["config/config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"]
)
def test_shipped_configs_are_valid(path):
    cfg = load_config_file(ROOT / path)
    assert cfg["method_a"]["sampler"]["chains"] >= 1


def test_defaults_are_filled():
    cfg = validate_config(
        {
            "datasets": {
                "iris": {"task": "classification", "source": {"kind": "sklearn", "name": "iris"}}
            }
        }
    )
    assert cfg["method_a"]["sampler"]["langevin_prob"] == 0.5
    assert cfg["method_a"]["resample"]["samples"] == 1000
    assert cfg["method_a"]["prior"]["sigma2"] == 25.0
    assert cfg["datasets"]["iris"]["split"]["test_fraction"] == 0.4
    assert cfg["datasets"]["iris"]["network"]["hidden_activation"] == "sigmoid"


def _rejected(mutate, *names: str) -> str:
    cfg = _base()
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    message = str(err.value)
    for name in names:
        assert name in message, message
    return message


def test_unknown_key_is_rejected():
    _rejected(
        lambda c: c["method_a"]["sampler"].update(stepsize=0.1), "method_a.sampler", "stepsize"
    )


def test_unknown_top_level_key_is_rejected():
    _rejected(lambda c: c.update(replicate=3), "replicate")


def test_wrong_type_is_rejected():
    _rejected(lambda c: c["method_a"]["sampler"].update(samples="many"), "method_a.sampler.samples")


@pytest.mark.parametrize("rate", [0, 1, 1.5, -0.2])
def test_rate_outside_open_unit_interval_is_rejected(rate):
    _rejected(
        lambda c: c["method_a"]["pruning"].update(rates=[0.5, rate]), "method_a.pruning.rates"
    )


def test_unknown_criterion_is_rejected():
    _rejected(
        lambda c: c["method_a"]["pruning"].update(criteria=["stn", "snr"]),
        "method_a.pruning.criteria",
    )


def test_missing_target_column_is_rejected():
    def drop_target(c):
        del c["datasets"]["iris"]["reader"]["target"]

    _rejected(drop_target, "datasets.iris.reader", "target")


def test_url_without_checksum_is_rejected():
    def drop_sha(c):
        del c["datasets"]["iris"]["source"]["files"]["data"]["sha256"]

    _rejected(drop_sha, "datasets.iris.source", "sha256")


def test_bad_checksum_text_is_rejected():
    _rejected(
        lambda c: c["datasets"]["iris"]["source"]["files"]["data"].update(sha256="abc"),
        "datasets.iris.source.files.data.sha256",
    )


def test_method_naming_an_undefined_dataset_is_rejected():
    _rejected(
        lambda c: c["method_a"].update(datasets=["iris", "nope"]), "method_a.datasets", "nope"
    )


def test_image_dataset_in_method_a_is_rejected():
    _rejected(lambda c: c["method_a"].update(datasets=["digits"]), "method_a.datasets", "digits")


def test_gradual_needs_bayes_magnitude():
    _rejected(
        lambda c: c["method_b"].update(methods=["unpruned", "gradual_magnitude"]), "bayes_magnitude"
    )


def test_oneshot_needs_bayes_magnitude():
    _rejected(
        lambda c: c["method_b"].update(methods=["unpruned", "oneshot_magnitude"]),
        "oneshot_magnitude",
        "bayes_magnitude",
    )


def test_old_rate_key_is_read_as_a_one_element_list():
    cfg = _base()
    del cfg["method_b"]["rates"]
    cfg["method_b"]["rate"] = 0.5
    before = copy.deepcopy(cfg)
    out = validate_config(cfg)
    assert out["method_b"]["rates"] == [0.5] and "rate" not in out["method_b"]
    assert cfg == before  # the caller's dict is left alone
    cfg["method_b"]["rates"] = [0.5]
    with pytest.raises(ConfigError, match="both `rate`"):
        validate_config(cfg)


def test_method_b_defaults_and_gate_keys():
    base = _base()
    base["method_b"] = {"datasets": ["digits"]}
    b = validate_config(base)["method_b"]
    assert b["rates"] == [0.75] and b["likelihood_scale"] is None
    assert b["tradeoff"]["design"] == "one_at_a_time"
    assert b["tradeoff"]["baseline_sparsities"] == [0.5, 0.75, 0.9, 0.95]


@pytest.mark.parametrize(
    "mutate, names",
    [
        (lambda c: c["method_b"].update(rates=[0.5, 0.75]), ["method_b.rates", "decreasing"]),
        (lambda c: c["method_b"].update(rates=[]), ["method_b.rates"]),
        (lambda c: c["method_b"].update(rates=[1.0]), ["method_b.rates"]),
        (lambda c: c["method_b"].update(likelihood_scale=1.5), ["method_b.likelihood_scale"]),
        (lambda c: c["method_b"].update(likelihood_scale=0), ["method_b.likelihood_scale"]),
        (
            lambda c: c["method_b"].update(tradeoff={"rates": [[0.75], [0.1, 0.5]]}),
            ["method_b.tradeoff.rates[1]", "decreasing"],
        ),
        (
            lambda c: c["method_b"].update(tradeoff={"likelihood_scale": ["half"]}),
            ["method_b.tradeoff.likelihood_scale"],
        ),
        (
            lambda c: c["method_b"].update(tradeoff={"design": "latin"}),
            ["method_b.tradeoff.design"],
        ),
    ],
)
def test_method_b_gate_settings_are_checked(mutate, names):
    _rejected(mutate, *names)


def test_validation_does_not_mutate_input():
    cfg = _base()
    before = copy.deepcopy(cfg)
    validate_config(cfg)
    assert cfg == before


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(1, "sample", "iris", 0) == derive_seed(1, "sample", "iris", 0)
    seeds = {derive_seed(1, "sample", "iris", r) for r in range(50)}
    assert len(seeds) == 50


def test_partial_resample_block_keeps_the_resample_default():
    cfg = _base()
    cfg["method_a"]["resample"] = {"step_size": 0.02}
    assert validate_config(cfg)["method_a"]["resample"]["samples"] == 1000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("null", None),
        ("~", None),
        ("100", 100),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("true", True),
        ("false", False),
        ("../shared/datasets", "../shared/datasets"),
        ("stn", "stn"),
        ("[0.25, 0.5]", [0.25, 0.5]),
    ],
)
def test_command_line_values_get_their_yaml_type(text, value):
    assert typed_value(text) == value and type(typed_value(text)) is type(value)


def test_nested_command_line_override_merges_typed_keys():
    # what Snakemake hands over for --config 'method_a={sampler: {samples: 100}}' mirror=null
    cli = {"method_a": {"sampler": {"samples": "100", "thin": "2"}}, "mirror": "null"}
    base = _base()
    merged = apply_overrides(base, cli)
    assert merged["mirror"] is None
    assert merged["method_a"]["sampler"]["samples"] == 100
    assert merged["method_a"]["sampler"]["thin"] == 2
    # the rest of method_a (and of its sampler block) is kept
    assert merged["method_a"]["datasets"] == base["method_a"]["datasets"]
    assert merged["method_a"]["sampler"]["chains"] == base["method_a"]["sampler"]["chains"]
    assert base["method_a"]["sampler"]["samples"] == 300  # the input is not changed
    cfg = validate_config(merged)
    assert cfg["method_a"]["sampler"]["samples"] == 100 and cfg["mirror"] is None


def test_untyped_override_would_be_rejected():
    # without typing, the schema rejects the string (the failure this override fixes)
    base = _base()
    base["method_a"]["sampler"]["samples"] = "100"
    with pytest.raises(ConfigError, match="method_a.sampler.samples"):
        validate_config(base)


def test_override_replaces_lists_and_scalars():
    merged = apply_overrides(_base(), {"method_a": {"pruning": {"rates": ["0.25", "0.75"]}}})
    assert merged["method_a"]["pruning"]["rates"] == [0.25, 0.75]
    assert merged["method_a"]["pruning"]["criteria"] == ["stn", "rnd"]


def test_diagonal_metric_needs_adaptation_and_a_burn_in():
    def sampler(**kw):
        return lambda c: c["method_a"].setdefault("sampler", {}).update(kw)

    _rejected(sampler(metric="diagonal", adapt=False), "method_a.sampler", "adapt: true")
    _rejected(
        sampler(metric="diagonal", adapt=True, samples=20, burn_in=0.1, thin=1),
        "method_a.sampler",
        "too short",
    )
    _rejected(sampler(metric="dense"), "metric")
    cfg = _base()
    cfg["method_a"].setdefault("resample", {}).update(metric="diagonal", adapt=True)
    assert validate_config(cfg)["method_a"]["resample"]["metric"] == "diagonal"
