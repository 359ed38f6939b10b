"""Media result types: what a file is, and one sampled video frame."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

MediaKind = Literal["image", "video", "audio"]


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds. ``duration_s`` is 0 for images; ``width``/``height`` are 0 for audio.

    ``width``/``height`` are as displayed: for a video with a display rotation (``rotation``, counter-clockwise
    degrees, e.g. -90 from a phone held upright) they are those of the upright frames ``iter_frames`` yields.
    """

    path: Path
    kind: MediaKind
    width: int
    height: int
    duration_s: float
    fps: float
    has_video: bool
    has_audio: bool
    size_bytes: int
    rotation: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


@dataclass(frozen=True)
class Frame:
    """One frame: ``image`` is RGB uint8 (H, W, 3); ``time_s`` its presentation time; ``index`` its sample number."""

    index: int
    time_s: float
    image: np.ndarray
