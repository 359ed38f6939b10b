"""Benchmark: frames analysed per second by ``mien faces`` on a 720p clip, against a dlib baseline.

Mien: mediapipe detection + 478-point mesh + head pose on every sampled frame, dlib-ResNet (torch) embeddings per
track. Baseline, same sampled frames: dlib HOG detection + 68 landmarks + dlib's own embedding on every frame.
Peak memory is measured in child processes for a 30 s and a 120 s clip to show it stays flat in video length.

    python -m evals.bench.faces [--seconds 30] [--long-seconds 120] [--baseline-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.bench import run_bench
from evals.clips import benchmark_clip
from tools.settings import get_settings


def run_mien(path: Path) -> dict[str, float]:
    import torch

    torch.set_num_threads(1)
    from tools.faces import analyze_file

    analyze_file(path, fps=get_settings().video_fps)  # warm-up: models load outside the timing
    started = time.perf_counter()
    result = analyze_file(path, fps=get_settings().video_fps)
    seconds = time.perf_counter() - started
    return {
        "frames": result.frames_analysed,
        "seconds": seconds,
        "fps": result.frames_analysed / seconds,
        "people": len(result.tracks),
    }


def run_dlib_baseline(path: Path, max_seconds: float) -> dict[str, float]:
    import dlib

    from tools.faces.dlib_models import RESNET_FILE, SHAPE_68_FILE, dlib_model_path
    from tools.media import iter_frames

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(dlib_model_path(SHAPE_68_FILE)))
    embedder = dlib.face_recognition_model_v1(str(dlib_model_path(RESNET_FILE)))
    frames = faces = 0
    started = time.perf_counter()
    for frame in iter_frames(path, get_settings().video_fps, end_s=max_seconds):
        for rect in detector(frame.image, 0):
            shape = predictor(frame.image, rect)
            np.asarray(embedder.compute_face_descriptor(frame.image, shape))
            faces += 1
        frames += 1
    seconds = time.perf_counter() - started
    return {"frames": frames, "seconds": seconds, "fps": frames / seconds, "faces": faces}


def child_peak_rss_mb(path: Path) -> float:
    """Peak resident memory of a fresh process that runs ``mien faces``' analysis on ``path``."""
    code = "import sys; from evals.bench.faces import run_mien; run_mien(__import__('pathlib').Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=Path(__file__).parents[2])
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--long-seconds", type=float, default=120.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="Baseline runs on this prefix only.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        short = benchmark_clip(Path(folder) / "short.mp4", seconds=args.seconds)
        mien = run_mien(short)
        baseline = run_dlib_baseline(short, args.baseline_seconds)
        # RUSAGE_CHILDREN keeps the maximum over all children: measure the short clip first, then the long one.
        rss_short = child_peak_rss_mb(short)
        long = benchmark_clip(Path(folder) / "long.mp4", seconds=args.long_seconds)
        rss_long = child_peak_rss_mb(long)
    report = {
        "clip": f"{args.seconds:.0f} s 1280x720 25 fps, sampled at {get_settings().video_fps} fps",
        "mien_frames_per_s": round(mien["fps"], 2),
        "dlib_baseline_frames_per_s": round(baseline["fps"], 2),
        "speedup": round(mien["fps"] / baseline["fps"], 2),
        "people_found": mien["people"],
        "peak_rss_mb_short": round(rss_short, 1),
        "peak_rss_mb_long": round(rss_long, 1),
        "rss_growth_ratio": round(rss_long / rss_short, 3),
        "targets": "mien >= 5 frames/s, speedup >= 3x, memory flat",
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        print(f"{key:>28}: {value}")


if __name__ == "__main__":
    run_bench(main)
