"""Audio extraction: any file with an audio track becomes 16 kHz mono float32 in [-1, 1]."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np

from tools.errors import MediaError
from tools.media.damage import collect_damage
from tools.media.packets import decode_stream
from tools.media.probe import open_container, probe_media
from tools.settings import Settings, get_settings

SPEECH_SAMPLE_RATE = 16_000

log = logging.getLogger(__name__)


def load_audio(path: str | Path, sample_rate: int = SPEECH_SAMPLE_RATE, settings: Settings | None = None) -> np.ndarray:
    """Decode the first audio track of ``path`` to mono float32 samples at ``sample_rate`` Hz, shape (n,).

    Damaged packets are skipped and a truncated track is used up to the damage, each said in one warning line
    (``tools.media.damage``). Raises ``MediaError`` for images, video without an audio track, and audio of which
    nothing decodes.
    """
    settings = settings or get_settings()
    info = probe_media(path, settings)
    if info.kind == "image":
        raise MediaError(f"{info.path}: an image has no audio")
    if not info.has_audio:
        raise MediaError(f"{info.path}: the video has no audio track")
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    chunks: list[np.ndarray] = []
    written = 0  # samples in ``chunks``
    start_s: float | None = None
    with open_container(info.path) as container, collect_damage() as damage:
        for frame in decode_stream(container, container.streams.audio[0], info.path, info.duration_s):
            if frame.time is not None:
                start_s = float(frame.time) if start_s is None else start_s
                # A skipped packet leaves a gap: fill it with silence so later words keep their times.
                gap = round((float(frame.time) - start_s) * sample_rate) - written
                if gap > sample_rate // 50:
                    chunks.append(np.zeros(gap, np.float32))
                    written += gap
            try:
                resampled = resampler.resample(frame)  # type: ignore[arg-type]
            except (av.error.FFmpegError, ValueError) as error:  # a damaged frame with an impossible layout
                log.warning("%s: audio: dropped a frame the resampler refused (%s)", info.path.name, error)
                continue
            for out in resampled:
                chunks.append(out.to_ndarray().reshape(-1))
                written += chunks[-1].size
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    if not chunks:
        if damage:
            raise MediaError(f"{info.path}: the audio is corrupt or truncated: no audio packet could be decoded")
        return np.zeros(0, dtype=np.float32)
    return np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)
