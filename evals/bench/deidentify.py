"""Benchmark: frames per second of ``deidentify_video`` on a 720p clip composed from real photos, against baselines.

All runs are in this one invocation, on the same clip (``evals.clips.benchmark_clip``: three people from real
photos drifting and zooming at 1280x720, 25 fps), so the ratios compare like with like on the same machine:

* ``transcode``: decode every frame and encode it again, no detection: the floor set by the video codecs.
* ``before``: ``mien deidentify`` as it was before the detection ensemble (issue 8): BlazeFace alone chooses the
  regions on every frame, tracking fills gaps, the written file is searched again by BlazeFace.
* ``now``: ``mien deidentify`` today: the ensemble's cheap members (BlazeFace tiled + padded) on every frame, all
  of it (+ mirrored BlazeFace + MTCNN) every ``deidentify_full_scan_frames`` frames, unconfirmed regions hidden as
  head and hair, the written file searched again and checked once a second by dlib HOG and OpenCV's cascades.
* ``--all`` adds ``detect, no tracking`` (each frame on its own, no check) and ``detect + tracking`` (no check).

Ratios are printed against ``before``; for each output, the frames where BlazeFace (0.3) still finds a face and
the share of pixels the hiding changed. ``--memory`` also measures the peak memory of the full run in
child processes on a short and a four times longer 640x360 clip, to show it stays flat in video length.

    python -m evals.bench.deidentify [--seconds 4] [--memory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.bench import run_bench
from evals.clips import benchmark_clip, pan_zoom_clip
from tools.settings import Settings


def transcode(path: Path, out: Path) -> dict[str, Any]:
    from tools.media import iter_frames, probe_media, write_video

    started = time.perf_counter()
    frames = 0

    def images() -> Any:
        nonlocal frames
        for frame in iter_frames(path):
            frames += 1
            yield frame.image

    write_video(out, images(), probe_media(path).fps)
    seconds = time.perf_counter() - started
    return {"frames": frames, "seconds": round(seconds, 2), "fps": round(frames / seconds, 2)}


# Before the detection ensemble (issue 8): BlazeFace alone chose the regions and nothing else checked them.
BEFORE = {"deidentify_detector": "mediapipe", "deidentify_check_detectors": "", "deidentify_video_check_detectors": ""}


def deidentify(path: Path, out: Path, *, tracking: bool, verify: bool, before: bool = False) -> dict[str, Any]:
    from tools.deidentify import deidentify_video

    overrides: dict[str, Any] = dict(BEFORE) if before else {}
    if not tracking:
        overrides.update(deidentify_max_gap_frames=0, deidentify_hold_frames=0)
    settings = Settings(**overrides)
    report = deidentify_video(path, out, verify=verify, progress=False, settings=settings)
    return {
        "frames": report.frames_written,
        "seconds": round(report.elapsed_s, 2),
        "fps": round(report.frames_per_s, 2),
        "faces_detected": report.faces_detected,
        "boxes_interpolated": report.boxes_interpolated,
        "boxes_held": report.boxes_held,
        "residual_faces": report.residual_faces,
        "verify_rounds": report.verify_rounds,
        "frames_flagged": report.frames_flagged,
        "tracks": report.tracks,
    }


BEFORE_RUN = "before: BlazeFace alone (tracking + check of the file)"
AFTER_RUN = "now: ensemble + independent checks (mien deidentify)"


def check_output(source: Path, written: Path) -> dict[str, float]:
    """Frames of ``written`` where our detector (0.3) still finds a face, and the mean share of pixels changed by
    more than 24 levels from ``source`` (how much of the picture the hiding took; codec noise stays under it)."""
    import numpy as np

    from tools.faces.detect_mediapipe import MediapipeDetector
    from tools.media import iter_frames

    checker = MediapipeDetector(min_score=0.3)
    left, changed = 0, []
    for before, after in zip(iter_frames(source), iter_frames(written), strict=True):
        left += 1 if checker.detect(after.image) else 0
        changed.append(float((np.abs(after.image.astype(np.int16) - before.image).max(axis=2) > 24).mean()))
    return {"frames_with_a_face_left": left, "pixels_changed": round(float(np.mean(changed)), 3)}


def peak_memory_mb(path: Path, out: Path) -> float:
    """Peak resident memory (VmHWM) of a fresh process that de-identifies ``path`` (MB).

    VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's at fork time.
    """
    code = (
        "import re, sys; from tools.deidentify import deidentify_video; "
        "deidentify_video(sys.argv[1], sys.argv[2], progress=False); "
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path), str(out)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="Length of the 720p clip (25 fps).")
    parser.add_argument("--memory", action="store_true", help="Also measure peak memory on a short and a long clip.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    parser.add_argument("--all", action="store_true", help="Also the runs without tracking / without the check.")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clip = benchmark_clip(work / "bench.mp4", seconds=args.seconds)
        # detectors load outside the timing
        deidentify(clip, work / "warmup.mp4", tracking=True, verify=True, before=True)
        deidentify(clip, work / "warmup.mp4", tracking=True, verify=True)
        runs = {"transcode": transcode(clip, work / "transcode.mp4")}
        outputs = {}
        if args.all:
            runs["detect, no tracking"] = deidentify(clip, work / "plain.mp4", tracking=False, verify=False)
            runs["detect + tracking"] = deidentify(clip, work / "tracked.mp4", tracking=True, verify=False)
            outputs.update({"detect, no tracking": "plain.mp4", "detect + tracking": "tracked.mp4"})
        runs[BEFORE_RUN] = deidentify(clip, work / "before.mp4", tracking=True, verify=True, before=True)
        runs[AFTER_RUN] = deidentify(clip, work / "full.mp4", tracking=True, verify=True)
        outputs.update({BEFORE_RUN: "before.mp4", AFTER_RUN: "full.mp4"})
        for name, out in outputs.items():
            runs[name].update(check_output(clip, work / out))
        baseline = runs[BEFORE_RUN]["fps"]
        for run in runs.values():
            run["speed_vs_before"] = round(run["fps"] / baseline, 3)
        report: dict[str, Any] = {"clip": "1280x720, 25 fps, 3 people (evals.clips.benchmark_clip)", "runs": runs}
        if args.memory:
            short = pan_zoom_clip(work / "short.mp4", seconds=5.0, fps=10.0)
            long = pan_zoom_clip(work / "long.mp4", seconds=20.0, fps=10.0)
            report["peak_memory_mb"] = {
                "5 s, 640x360": round(peak_memory_mb(short, work / "short-out.mp4"), 1),
                "20 s, 640x360": round(peak_memory_mb(long, work / "long-out.mp4"), 1),
            }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(report["clip"])
    for name, run in runs.items():
        print(f"{name:>38}: {json.dumps(run)}")
    for name, value in report.get("peak_memory_mb", {}).items():
        print(f"{'peak memory ' + name:>38}: {value} MB")


if __name__ == "__main__":
    run_bench(main)
