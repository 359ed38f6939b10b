"""Real synthetic speech from the ``espeak-ng`` program (Debian package), for tests, benchmarks and examples.

No package ships recordings of people talking; espeak-ng renders any sentence at a chosen rate and pitch, and
Whisper transcribes it. It is a formant synthesizer, so it can test words, timing and prosody, not accents or
real voices.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tools.errors import ModelUnavailableError


def synthesize_speech(
    text: str,
    path: str | Path,
    *,
    words_per_minute: int = 175,
    pitch: int = 50,
    voice: str = "en",
) -> Path:
    """Write ``text`` spoken by espeak-ng to the WAV file ``path`` (22.05 kHz mono 16-bit) and return the path.

    ``pitch`` is espeak-ng's 0-99 scale (50 is its default voice); ``words_per_minute`` its speed (80-450).
    """
    program = shutil.which("espeak-ng")
    if program is None:
        raise ModelUnavailableError("espeak-ng is not installed (Debian package 'espeak-ng')")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [program, "-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "-w", str(target), text]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if completed.returncode != 0 or not target.is_file() or target.stat().st_size <= 44:
        raise ModelUnavailableError(f"espeak-ng failed ({completed.returncode}): {completed.stderr.strip()}")
    return target
