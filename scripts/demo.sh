#!/usr/bin/env bash
# Set up (idempotent) and run Mien's main job on the shipped example clip: the agent, on the embedded chat model,
# answers "How do the people in this clip feel?" with its label, explanation and evidence.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(bash "$repo/scripts/setup.sh")
cd "$repo"
export GLOG_minloglevel=2 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"$venv/bin/python" examples/quickstart.py "$@"
