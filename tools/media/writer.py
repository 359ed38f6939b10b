"""Writing videos (H.264 + AAC in MP4) from RGB frames, optionally with a mono audio track. Atomic."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tools.storage import atomic_path


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int = 16_000,
    crf: int = 23,
) -> Path:
    """Encode RGB uint8 frames (H, W, 3; even sizes are enforced by cropping) at ``fps`` to ``path``.

    ``audio`` is mono float32 in [-1, 1] at ``sample_rate``. Frames are consumed lazily, so a generator keeps
    memory flat. The file appears only once it is complete.
    """
    target = Path(path)
    with atomic_path(target) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        video.pix_fmt = "yuv420p"
        video.options = {"crf": str(crf), "preset": "veryfast"}
        audio_stream = None
        if audio is not None:
            audio_stream = container.add_stream("aac", rate=sample_rate)
            audio_stream.layout = "mono"
        sized = False
        for image in frames:
            image = np.ascontiguousarray(image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2, :3])
            if not sized:
                video.width, video.height = image.shape[1], image.shape[0]
                sized = True
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio_stream is not None and audio is not None:
            _encode_audio(container, audio_stream, audio, sample_rate)
    return target


def _encode_audio(
    container: av.container.OutputContainer, stream: av.stream.Stream, audio: np.ndarray, rate: int
) -> None:
    samples = np.asarray(audio, dtype=np.float32).reshape(1, -1)
    chunk = 1024
    for start in range(0, samples.shape[1], chunk):
        piece = np.ascontiguousarray(samples[:, start : start + chunk])
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
