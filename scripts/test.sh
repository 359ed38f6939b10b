#!/usr/bin/env bash
# Set up (idempotent) and run every check: ruff, mypy, and the whole pytest suite (slow tests included).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" tests/faces
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(bash "$repo/scripts/setup.sh")
cd "$repo"
export GLOG_minloglevel=2 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== ruff"
"$venv/bin/ruff" check .
echo "== mypy"
"$venv/bin/mypy"
echo "== pytest"
"$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout=900 "$@"
