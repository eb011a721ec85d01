"""The job table and the result layout (bayesprune.layout): every file's keys from its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bayesprune import layout
from bayesprune.config import validate_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny():
    return validate_config(yaml.safe_load((ROOT / "tests/configs/tiny.yaml").read_text()))


def test_job_table_lists_every_job_in_gathering_order(tiny):
    jobs = layout.job_table(tiny)
    counts = jobs["stage"].value_counts().to_dict()
    # iris and diabetes: 1 replicate, 2 criteria x 1 rate; digits: 6 method-B runs
    assert counts == {"unpruned": 2, "full": 2, "pruned": 4, "resampled": 4, "method_b": 6}
    iris = layout.select(jobs, ("full", "pruned", "resampled"), dataset="iris")
    assert list(zip(iris["stage"], iris["criterion"], strict=True)) == [
        ("full", None),
        ("pruned", "stn"),
        ("resampled", "stn"),
        ("pruned", "rnd"),
        ("resampled", "rnd"),
    ]
    assert set(layout.select(jobs, "pruned", rate=["0.5"])["rate"]) == {"0.5"}
    assert layout.select(jobs, "pruned", rate="0.25").empty


def test_every_template_reads_back_the_keys_it_was_filled_with():
    keys = {"dataset": "iris", "rep": 3, "criterion": "stn", "rate": 0.25, "method": "random"}
    for stage, template in layout.STAGE_DIRS.items():
        path = template.format(**keys) + "/metrics.json"
        name, found = layout.parse(path)
        assert name == stage
        assert found == {k: keys[k] for k in found} and found
        assert list(found) == [k for k in layout.KEY_COLUMNS if f"{{{k}}}" in template]
    assert layout.parse("/abs/run/" + layout.TRADEOFF_CSV.format(dataset="d", seed=1)) == (
        "tradeoff",
        {"dataset": "d", "seed": 1},
    )
    assert layout.stage_key("results/method_a/iris/rep0/full/params.csv") == (
        "full",
        "none",
        0.0,
        0,
    )
    assert layout.stage_key("results/method_a/iris/rep1/resampled/rnd/0.5/posterior.nc") == (
        "resampled",
        "rnd",
        0.5,
        1,
    )


def test_a_path_outside_the_layout_is_refused():
    with pytest.raises(ValueError, match="not a path of the result layout"):
        layout.keys_of("results/method_a/iris/full/metrics.json")
