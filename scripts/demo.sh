#!/usr/bin/env bash
# Set up (idempotent) and run Mien's main job on the shipped example clip.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(bash "$repo/scripts/setup.sh")
cd "$repo"
export GLOG_minloglevel=2 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p out
"$venv/bin/mien" faces examples/interview.mp4 --annotate out/interview-faces.png
