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
MAX_REFUSALS = 16  # frames the resampler may refuse before any is converted, before the track is given up

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
    refused = ""  # why the resampler refused a frame, if it did
    refusals = 0
    with open_container(info.path) as container, collect_damage() as damage:
        track = container.streams.audio[0]
        track_s = float(track.duration * track.time_base) if track.duration and track.time_base else 0.0
        announced_s = min(max(info.duration_s, track_s) or settings.max_video_seconds, settings.max_video_seconds)
        limit = round((announced_s + 1.0) * sample_rate)  # samples of silence-filled output allowed at most
        for frame in decode_stream(container, container.streams.audio[0], info.path, info.duration_s):
            if frame.time is not None:
                start_s = float(frame.time) if start_s is None else start_s
                # A skipped packet leaves a gap: fill it with silence so later words keep their times.
                gap = round((float(frame.time) - start_s) * sample_rate) - written
                # A damaged timestamp can claim hours: 37 kB of AVI became 546 MB of silence (found by evals/fuzz).
                # Silence is filled only up to the duration the header announces; a time beyond it is damage.
                if gap > sample_rate // 50 and written + gap <= limit:
                    chunks.append(np.zeros(gap, np.float32))
                    written += gap
            try:
                resampled = resampler.resample(frame)  # type: ignore[arg-type]
            except (av.error.FFmpegError, ValueError) as error:  # a damaged frame with an impossible layout
                if not refusals:  # one line, however many follow
                    log.warning("%s: audio: dropped a frame the resampler refused (%s)", info.path.name, error)
                refused = refused or str(error)
                refusals += 1
                if refusals >= MAX_REFUSALS and not chunks:  # it refuses them all: say so now, not after hours
                    break
                continue
            for out in resampled:
                chunks.append(out.to_ndarray().reshape(-1))
                written += chunks[-1].size
        try:
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
        except (av.error.FFmpegError, ValueError) as error:  # no frame ever reached it, or the last was damaged
            log.warning("%s: audio: the resampler's last samples were lost (%s)", info.path.name, error)
    if not chunks:
        if refused:
            raise MediaError(f"{info.path}: the audio track cannot be converted to 16 kHz mono ({refused})")
        if damage:
            raise MediaError(f"{info.path}: the audio is corrupt or truncated: no audio packet could be decoded")
        return np.zeros(0, dtype=np.float32)
    return np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)
