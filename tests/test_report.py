"""The Snakemake HTML report of the tiny config holds every figure and table with its caption."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from PIL import Image

# The tiny end-to-end run (skips without the dataset mirror). Imported, it runs once for this
# module; moved into conftest.py with session scope, it would be shared with test_workflow.
from smk import snakemake, tiny_args

pytestmark = pytest.mark.slow

A_COMMON = [
    "loo",
    "pruning_curves",
    "pruned_vs_resampled",
    "rhat_ess",
    "parameter_density",
    "trace_stn",
    "trace_rnd",
]
EXPECTED = {
    **{f"results/figures/method_a/iris/{n}.png": "iris" for n in A_COMMON},
    **{
        f"results/figures/method_a/iris/{k}_{c}.png": "iris"
        for k in ("roc", "reliability")
        for c in ("stn", "rnd")
    },
    **{
        f"results/figures/method_a/diabetes/{n}.png": "diabetes"
        for n in [*A_COMMON, "predicted_vs_actual"]
    },
    **{
        f"results/figures/method_b/digits/{n}.png": "digits"
        for n in ("accuracy", "sparsity", "log_bayes_factor", "final", "tradeoff")
    },
    "results/tables/headline_method_a.html": "Method A",
    "results/tables/headline_method_b.html": "Method B",
    "results/figures/provenance.html": "config digest",
}


@pytest.fixture(scope="module")
def report(tiny_run):
    result = snakemake(tiny_run, *tiny_args(), "--report", "results/report.html", timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    text = (tiny_run / "results" / "report.html").read_text()
    return tiny_run, text


def _results(text: str) -> dict:
    """The report's embedded result records (path -> name, caption, labels, data)."""
    records = {}
    for path in EXPECTED:
        match = re.search(
            re.escape(json.dumps(path)) + r": (\{.*?\"caption\": \"(?:[^\"\\]|\\.)*\")", text
        )
        if match:
            records[path] = json.loads(match.group(1) + "}")
    return records


def test_every_figure_and_table_is_in_the_report(report):
    workdir, text = report
    records = _results(text)
    missing = sorted(set(EXPECTED) - set(records))
    assert not missing, missing
    for path, word in EXPECTED.items():
        assert (workdir / path).stat().st_size > 1000, path
        caption = records[path]["caption"]
        assert word in caption or word in text, path
        assert len(caption) > 200, (path, caption)  # the caption file was rendered
        assert "{{" not in caption, (path, caption)  # jinja was filled in
        assert "System Message" not in caption, (path, caption)  # valid reStructuredText
    # images are embedded, not linked
    assert text.count("data:image/png;") >= sum(p.endswith(".png") for p in EXPECTED)


def test_captions_name_their_dataset_and_criterion(report):
    records = _results(report[1])
    assert (
        "<strong>iris</strong>"
        in records["results/figures/method_a/iris/pruning_curves.png"]["caption"]
    )
    # one job draws every criterion's figure: the label names this figure's criterion, the
    # caption the run's criteria and the shown rate
    for crit in ("stn", "rnd"):
        trace = records[f"results/figures/method_a/diabetes/trace_{crit}.png"]
        assert "STN, RND" in trace["caption"] and "50%" in trace["caption"]
        assert trace["labels"] == {"figure": "4 trace and rank", "criterion": crit}
        roc = records[f"results/figures/method_a/iris/roc_{crit}.png"]
        assert roc["labels"] == {"figure": "7 ROC curves", "criterion": crit}


def test_workflow_description_names_the_run(report):
    _, text = report
    assert "bayesprune: Bayesian pruning of neural networks" in text
    assert "base seed" in text and "iris, diabetes" in text


def test_landing_page_opens_on_the_title_and_the_report_stays_small(report):
    workdir, text = report
    # Snakemake centres the landing page in a scrolling box; the description's style block
    # aligns it to the top (checked in a browser: tools/report_screenshot.sh)
    assert "align-items: flex-start" in text
    title = text.index("bayesprune: Bayesian pruning of neural networks")
    assert text.index("Does pruning a Bayesian neural network") > title
    assert text.index("Does pruning a Bayesian neural network") < text.index("This run")
    assert (workdir / "results/report.html").stat().st_size < 10 * 2**20


def test_figures_are_150_dpi_pngs(report):
    workdir, _ = report
    for path in EXPECTED:
        if path.endswith(".png"):
            with Image.open(workdir / path) as image:
                assert image.format == "PNG"
                assert round(image.info["dpi"][0]) == 150, path
                assert min(image.size) >= 450, (path, image.size)


def test_headline_tables(report):
    workdir, _ = report
    a = pd.read_csv(workdir / "results/tables/headline_method_a.csv")
    assert len(a) == 2 * 2  # datasets x criteria x rates
    assert set(a["dataset"]) == {"iris", "diabetes"}
    assert a["total params"].dtype.kind == "i"  # counts print as integers
    assert {"full", "pruned", "resampled", "kept params"} <= set(a.columns)
    b = pd.read_csv(workdir / "results/tables/headline_method_b.csv")
    assert len(b) == 6 and b["method"].iloc[0] == "unpruned"
    md = (workdir / "results/tables/headline_method_a.md").read_text()
    assert md.count("\n|") >= 5
    provenance = (workdir / "results/figures/provenance.html").read_text()
    assert "config digest" in provenance and "numpy" in provenance
