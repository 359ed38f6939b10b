"""Benchmark: what packet-by-packet decoding (damaged packets skipped and counted) costs against FFmpeg's plain loop.

``tools.media`` decodes each packet on its own, with FFmpeg's error log captured per packet, so that one damaged
packet costs its own frames instead of the whole file (``tools/media/packets.py``). The baseline is what it
replaced: ``container.decode(stream)``, which stops at the first damaged packet. Both decode every frame of the
same clean 720p H.264 clip (the faces benchmark clip, three people from package photos) and every sample of its
48 kHz AAC track, on one thread for the RGB conversion; the ratio is baseline time over packet-level time, median
of ``--repeats`` alternating runs in the same process. A damaged copy (one video and one audio packet noise) shows
what each path gets from it.

    python -m evals.bench.decoding [--seconds 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from evals.bench import run_bench


def make_clip(folder: Path, seconds: float, corrupt: tuple[tuple[str, int], ...] = ()) -> Path:
    """A 720p clip of three people, H.264 + AAC (made with the test suite's encoder, so damage can be injected)."""
    from evals import codec_clips
    from evals.clips import Sprite, astronaut_head, group_person, render_frames

    spec = codec_clips.ClipSpec("mp4", "libx264", "aac", 48_000, "stereo", fps=25, seconds=seconds, size=(1280, 720))
    spec = dataclasses.replace(spec, corrupt=corrupt)
    sprites = [
        Sprite(astronaut_head(), lambda t: (260 + 20 * np.sin(t), 360, 300)),
        Sprite(group_person(2), lambda t: (640, 340 + 10 * np.sin(t), 280)),
        Sprite(group_person(4), lambda t: (1020 - 20 * np.sin(t), 380, 300)),
    ]
    frames = render_frames(sprites, spec.seconds, spec.fps, spec.size)
    return codec_clips.make_clip(folder / f"clip{'-damaged' if corrupt else ''}.mp4", spec, frames)


def packet_level(path: Path) -> tuple[int, int]:
    from tools.media import iter_frames, load_audio

    frames = sum(1 for _ in iter_frames(path))
    return frames, load_audio(path, 48_000).size


def plain_loop(path: Path) -> tuple[int, int]:
    """What ``tools.media`` did before: FFmpeg's decode loop, stopping at the first error."""
    frames = samples = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                frame.to_ndarray(format="rgb24")
                frames += 1
        except av.error.FFmpegError:
            pass
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48_000)
        try:
            for audio in container.decode(container.streams.audio[0]):
                samples += sum(out.samples for out in resampler.resample(audio))
        except av.error.FFmpegError:
            pass
    return frames, samples


def timed(run: Callable[[Path], tuple[int, int]], path: Path) -> tuple[float, tuple[int, int]]:
    started = time.perf_counter()
    result = run(path)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clean = make_clip(folder, args.seconds)
        damaged = make_clip(folder, args.seconds, (("video", int(args.seconds * 25) // 2), ("audio", 100)))
        times: dict[str, list[float]] = {"packet-level": [], "plain loop": []}
        for _ in range(args.repeats):
            for name, run in (("packet-level", packet_level), ("plain loop", plain_loop)):
                times[name].append(timed(run, clean)[0])
        new, old = statistics.median(times["packet-level"]), statistics.median(times["plain loop"])
        frames = round(args.seconds * 25)
        print(f"clean 720p H.264 + AAC, {args.seconds:g} s ({frames} frames), median of {args.repeats}:")
        print(f"  plain loop (baseline)  {old:6.2f} s  {frames / old:6.1f} frames/s")
        print(f"  packet-level           {new:6.2f} s  {frames / new:6.1f} frames/s   ratio {old / new:.2f}x")
        print("damaged copy (one video, one audio packet noise): frames, audio samples at 48 kHz decoded")
        for name, run in (("plain loop", plain_loop), ("packet-level", packet_level)):
            _, (got_frames, got_samples) = timed(run, damaged)
            print(f"  {name:<22} {got_frames:4d} of {frames} frames, {got_samples / 48_000:5.2f} of {args.seconds:g} s")


if __name__ == "__main__":
    run_bench(main)
