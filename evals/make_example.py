"""Builds ``examples/interview.mp4``, the clip the README's quick start runs on.

Two real people from package photos (the astronaut, and a man from insightface's t1.jpg) sit side by side and
drift slightly; the sound track is espeak-ng speech. Regenerate with ``python -m evals.make_example``.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from evals.clips import Sprite, astronaut_head, group_person, render_frames
from tools.media import load_audio, write_video

EXAMPLE_PATH = Path(__file__).parents[1] / "examples" / "interview.mp4"
SPEECH = "Hello. It is wonderful to be back on Earth. The launch was loud, but I felt calm and happy the whole time."
SECONDS = 10.0
FPS = 10.0
SIZE = (640, 360)


def speech_samples(text: str) -> object:
    """16 kHz mono float32 speech for ``text`` (espeak-ng)."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True)
        return load_audio(wav)


def build(path: Path = EXAMPLE_PATH) -> Path:
    width, height = SIZE

    def sway(x: float, phase: float) -> Callable[[float], tuple[float, float, float]]:
        import math

        return lambda t: (x * width + 8 * math.sin(t + phase), 0.5 * height, 0.62 * height)

    sprites = [Sprite(astronaut_head(), sway(0.28, 0.0)), Sprite(group_person(2), sway(0.72, 1.5))]
    audio = speech_samples(SPEECH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, render_frames(sprites, SECONDS, FPS, SIZE), FPS, audio=audio)  # type: ignore[arg-type]


if __name__ == "__main__":
    print(build())
