"""envs/*.yaml (for --sdm conda users) pins exactly what requirements.txt pins."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_conda_env_matches_requirements():
    reqs = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "envs/bayesprune.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip) == reqs
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python == ["python=3.11"]


def test_every_rule_uses_the_conda_env():
    for smk in (ROOT / "rules").glob("*.smk"):
        text = smk.read_text()
        n_rules = text.count("\nrule ") + text.startswith("rule ")
        assert text.count('conda:\n        "../envs/bayesprune.yaml"') == n_rules, smk.name
