"""Shared test fixtures: repository paths, the shared dataset mirror, the paper config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import bayesprune.arviz_setup  # noqa: F401  (ArviZ on its numpy code in tests too)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
DATA_ZIP = DATASETS / "bayes_prun_data.zip"
MNIST_DIR = DATASETS / "mnist"
CONFIG_DIR = REPO / "config"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"{path} is missing: these tests read the real dataset files kept in the shared "
            f"mirror folder (../shared/datasets beside the repository; see SOURCES.md there)"
        )
    return path


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The shared dataset mirror (``../shared/datasets``); skips when it is absent."""
    return _need(DATASETS)


@pytest.fixture(scope="session")
def data_zip() -> Path:
    """The authors' ``bayes_prun_data.zip`` (part A datasets); skips when absent."""
    return _need(DATA_ZIP)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST test set (two IDX gz files); skips when absent."""
    _need(MNIST_DIR / "t10k-images-idx3-ubyte.gz")
    return _need(MNIST_DIR / "t10k-labels-idx1-ubyte.gz").parent


@pytest.fixture(scope="session")
def paper_config() -> dict[str, Any]:
    """``config/paper.yaml`` as written (no defaults filled)."""
    with open(CONFIG_DIR / "paper.yaml") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="session")
def default_config() -> dict[str, Any]:
    """``config/config.yaml`` as written (no defaults filled)."""
    with open(CONFIG_DIR / "config.yaml") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One real Snakemake run of tests/configs/tiny.yaml, shared by the end-to-end tests."""
    from smk import SHARED as mirror
    from smk import snakemake, tiny_args

    if not mirror.is_dir():
        pytest.skip(f"the dataset mirror {mirror} is missing (CI has it beside the checkout)")
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake(workdir, *tiny_args())
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    return workdir
