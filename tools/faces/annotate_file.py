"""Writing what the face pipeline found back onto the media: an annotated image, or an annotated video."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tools.errors import MediaError
from tools.faces.draw import draw_faces
from tools.faces.pipeline import VideoFaces
from tools.faces.types import Face
from tools.media import iter_frames, save_image, write_video

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def annotate_file(result: VideoFaces, out: str | Path) -> Path:
    """Draw ``result`` on its media. For a video, ``.mp4`` gives an annotated clip at the sampled rate and an
    image suffix gives the sampled frame with the most faces."""
    target = Path(out)
    suffix = target.suffix.lower()
    if suffix not in VIDEO_SUFFIXES | IMAGE_SUFFIXES:
        raise MediaError(f"{target}: annotation output must be one of {sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES)}")
    by_frame: dict[int, list[Face]] = defaultdict(list)
    for face in result.faces:
        by_frame[face.frame_index or 0].append(face)
    fps = result.sample_fps or None
    if suffix in VIDEO_SUFFIXES:
        if result.media.kind != "video":
            raise MediaError(f"{result.media.path}: only a video can be annotated as a video")
        frames = (draw_faces(f.image, by_frame.get(f.index, [])) for f in iter_frames(result.media.path, fps))
        return write_video(target, frames, fps or result.media.fps or 25.0)
    key_index = max(by_frame, key=lambda i: (len(by_frame[i]), -i)) if by_frame else 0
    image = _frame_at(result, key_index)
    return save_image(target, draw_faces(image, by_frame.get(key_index, [])))


def _frame_at(result: VideoFaces, index: int) -> np.ndarray:
    frames: Iterator = iter_frames(result.media.path, result.sample_fps or None)
    for frame in frames:
        if frame.index == index:
            return frame.image
    raise MediaError(f"{result.media.path}: frame {index} could not be decoded again")
