"""Body-language cost on the composed gesture clip (14.6 s, one person), against the face pipeline in the same run.

    python -m evals.bench.body

Prints the face pipeline's seconds (the baseline every body reading needs anyway), then the body step's seconds at
``body_fps`` 5 (every sampled frame at the default 5 fps) and 2.5 (every other one), each as a ratio to the face
pipeline, and how many cues each finds (fewer samples can miss short gestures).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from evals.bench import run_bench
from evals.body_clips import body_clip
from tools.body import read_body_language
from tools.faces import FaceOptions, analyze_file
from tools.settings import Settings, get_settings


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        clip = body_clip(Path(folder) / "gestures.mp4")
        read_body_language(analyze_file(clip, FaceOptions(embeddings=False)))  # load the models once
        started = time.perf_counter()
        faces = analyze_file(clip, FaceOptions(embeddings=True))
        face_s = time.perf_counter() - started
        print(f"face pipeline: {face_s:.2f} s for {faces.frames_analysed} frames ({faces.media.duration_s:.1f} s clip)")
        for body_fps in (5.0, 2.5):
            settings = Settings(**{**get_settings().model_dump(), "body_fps": body_fps})
            started = time.perf_counter()
            result = read_body_language(faces, settings)
            body_s = time.perf_counter() - started
            cues = sum(len(p.cues) for p in result.people)
            print(
                f"body at {body_fps:g} fps: {body_s:.2f} s = {body_s / face_s:.2f}x the face pipeline, "
                f"{body_s / faces.media.duration_s:.3f} s per video second, {cues} cues"
            )


if __name__ == "__main__":
    run_bench(main)
