"""Streaming video frames at a requested rate.

Frames are decoded one at a time and yielded, never collected, so memory stays flat however long the video is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tools.errors import MediaError
from tools.media.image import load_image
from tools.media.packets import decode_stream, drain_decoder
from tools.media.probe import open_container, probe_media, quarter_turns
from tools.media.types import Frame
from tools.settings import Settings, get_settings


def iter_frames(
    path: str | Path,
    fps: float | None = None,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    max_side_px: int | None = None,
    settings: Settings | None = None,
) -> Iterator[Frame]:
    """Yield RGB frames of ``path`` sampled at ``fps`` (every frame when None) between ``start_s`` and ``end_s``.

    An image yields one frame at time 0. Damaged packets are skipped and a video that breaks off midway yields what
    decoded, each said in one warning line (``tools.media.damage``); a video that yields nothing at all raises
    ``MediaError``. Frames come upright (the display rotation applied). ``max_side_px`` downscales on decode.
    """
    settings = settings or get_settings()
    info = probe_media(path, settings)
    if info.kind == "image":
        yield Frame(0, 0.0, _fit(load_image(info.path, settings), max_side_px))
        return
    if not info.has_video:
        raise MediaError(f"{info.path}: an audio-only file has no frames to analyse")
    yield from _decode(info.path, fps, start_s, end_s, max_side_px, info.duration_s)


def _decode(
    path: Path,
    fps: float | None,
    start_s: float,
    end_s: float | None,
    max_side_px: int | None,
    expected_s: float = 0.0,
) -> Iterator[Frame]:
    period = 1.0 / fps if fps else 0.0
    next_time = start_s
    sample_index = 0
    with open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start_s > 0:
            container.seek(int(start_s / stream.time_base), stream=stream, backward=True, any_frame=False)
        frames = decode_stream(container, stream, path, expected_s)
        try:
            for frame in frames:
                time_s = float(frame.time) if frame.time is not None else sample_index * (period or 1 / 25)
                if end_s is not None and time_s > end_s:
                    break
                if time_s + 1e-6 < next_time:
                    continue
                image = upright(frame.to_ndarray(format="rgb24"), frame.rotation)
                yield Frame(sample_index, time_s, _fit(image, max_side_px))
                sample_index += 1
                next_time = (next_time + period) if period else time_s
                if period and next_time <= time_s:
                    # Catch up after a gap in the timestamps instead of emitting a burst of frames.
                    next_time = time_s + period
        finally:
            frames.close()  # reports the damage seen, also when the caller stopped early
            drain_decoder(stream)  # before the decoder is freed (a hang otherwise: see drain_decoder)
    if sample_index == 0:
        raise MediaError(f"{path}: no video frame could be decoded (corrupt or truncated video)")


def upright(image: np.ndarray, rotation: int | float) -> np.ndarray:
    """The frame as it is meant to be seen: ``rotation`` is the display matrix's counter-clockwise angle (a
    phone held upright records landscape frames tagged -90), applied in steps of 90 degrees."""
    turns = quarter_turns(rotation)
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def _fit(image: np.ndarray, max_side_px: int | None) -> np.ndarray:
    if max_side_px is None or max(image.shape[:2]) <= max_side_px:
        return image
    import cv2

    scale = max_side_px / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
