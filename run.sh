#!/usr/bin/env bash
# One-command entry points (see README.md):
#   bash run.sh            set up .venv, regenerate every result of config/config.yaml + report
#   bash run.sh test       set up .venv (with test tools) and run the test suite
#   bash run.sh setup      only set up .venv
# Extra arguments after `all`/`test` go to snakemake / pytest, e.g.
#   bash run.sh all --configfile config/paper.yaml --config mirror=../shared/datasets
# REPORT=results/report.zip bash run.sh ...   writes the report as a zip (large configs)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV=.venv
what=${1:-all}
[ $# -gt 0 ] && shift

setup() {
  local reqs=$1
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  # A stamp of the requirement files: reinstall only when they change.
  local stamp="$VENV/.bayesprune-$(cat requirements*.txt pyproject.toml | sha256sum | cut -c1-16)-$(basename "$reqs")"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$reqs"
    "$VENV/bin/python" -m pip install --quiet --no-deps -e .
    touch "$stamp"
  fi
}

case "$what" in
  setup)
    setup requirements-dev.txt
    ;;
  all)
    setup requirements.txt
    "$VENV/bin/snakemake" "$@"
    report=${REPORT:-results/report.html}
    "$VENV/bin/snakemake" --report "$report" "$@"
    echo "Results: results/ (tables in results/tables/, report: $report)"
    ;;
  test)
    setup requirements-dev.txt
    "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: bash run.sh [all|test|setup] [extra args]" >&2
    exit 2
    ;;
esac
