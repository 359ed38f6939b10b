"""Audio extraction: any file with an audio track becomes 16 kHz mono float32 in [-1, 1]."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from tools.errors import MediaError
from tools.media.probe import open_container, probe_media
from tools.settings import Settings, get_settings

SPEECH_SAMPLE_RATE = 16_000


def load_audio(path: str | Path, sample_rate: int = SPEECH_SAMPLE_RATE, settings: Settings | None = None) -> np.ndarray:
    """Decode the first audio track of ``path`` to mono float32 samples at ``sample_rate`` Hz, shape (n,).

    Raises ``MediaError`` for images, video without an audio track, and corrupt audio.
    """
    settings = settings or get_settings()
    info = probe_media(path, settings)
    if info.kind == "image":
        raise MediaError(f"{info.path}: an image has no audio")
    if not info.has_audio:
        raise MediaError(f"{info.path}: the video has no audio track")
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    chunks: list[np.ndarray] = []
    with open_container(info.path) as container:
        try:
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as error:
            if not chunks:
                raise MediaError(f"{info.path}: the audio is corrupt or truncated ({error})") from error
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)
