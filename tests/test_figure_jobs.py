"""Figure jobs: a rule names a function of bayesprune.figures, the generic script draws it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from bayesprune.figures.jobs import draw, resolve  # noqa: E402
from bayesprune.figures.style import DPI, save_figure  # noqa: E402
from bayesprune.io import UserError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_every_rule_names_a_figure_job_that_exists():
    rules = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    names = re.findall(r'^\s+figure="([^"]+)"', rules, flags=re.M)
    assert names, "no rule uses a figure job"
    for name in names:
        assert callable(resolve(name)), name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("modes", "'<module>.<function>'"),
        ("no_such_module.job", "no module bayesprune/figures/no_such_module.py"),
        ("modes.no_such_job", "has no function no_such_job"),
    ],
)
def test_a_wrong_name_is_a_user_error_naming_it(name, says):
    with pytest.raises(UserError, match=re.escape(says)) as err:
        resolve(name)
    assert repr(name) in str(err.value) and "params.figure" in str(err.value)


def _diagnostics(path: Path, raw: float, aligned: float, n_modes: int) -> str:
    replicate = {
        "parameter_raw": {"rhat_median": raw},
        "parameter": {"rhat_median": aligned},
        "modes": {"n_modes": n_modes},
        "n_chains": 4,
        "function": {"loglik": {"rhat": 1.2}},
    }
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"replicate": replicate}))
    return str(path)


def test_modes_job_draws_one_point_pair_and_one_bar_per_replicate(tmp_path):
    base = tmp_path / "results/method_a/d"
    files = [
        _diagnostics(base / f"rep{r}/full/diagnostics.json", 2.5 - r / 10, 1.5, r + 1)
        for r in (1, 0, 2)  # any order: drawn by replicate
    ]
    fig = draw("modes.modes_job", {"diagnostics": files}, {"dataset": "d"})
    left, right = fig.axes[:2]
    assert [t.get_text() for t in right.get_xticklabels()] == ["rep 0", "rep 1", "rep 2"]
    assert [p.get_height() for p in right.patches] == [1, 2, 3]
    raw, aligned = (c.get_offsets()[:, 1].tolist() for c in left.collections[1:3])
    assert raw == pytest.approx([2.5, 2.4, 2.3]) and aligned == [1.5, 1.5, 1.5]
    out = tmp_path / "modes.png"
    save_figure(fig, out)
    assert out.stat().st_size > 0 and fig.get_size_inches().tolist() == [9.0, 3.6]
    assert DPI == 150
