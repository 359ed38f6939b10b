"""The pictures an MCP tool result carries: annotated key frames and the images a tool wrote.

A finding's face marks are drawn as the agent draws them for its vision model (SoVTP: numbered boxes, landmarks,
AU labels, ``prompts.sovtp``) on the frames where most faces are; files a tool wrote (a de-identified or cloaked
photo) come back as they are on disk, and a written video as one frame from its middle.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from prompts.sovtp import draw_sovtp_frame
from tools.langchain_tools.types import FaceMark, Finding
from tools.media import iter_frames, probe_media

MAX_SIDE_PX = 1024  # MCP clients hand images to models; larger adds bytes, not detail
MAX_ANNOTATED_FRAMES = 2
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


@dataclass(frozen=True)
class Picture:
    """Encoded image bytes, their MIME type, and one line saying what the picture is."""

    data: bytes
    mime_type: str
    caption: str


def finding_pictures(finding: Finding) -> list[Picture]:
    """The annotated key frames of ``finding``'s marks, then the files it wrote."""
    return annotated_frames(finding) + written_files(finding)


def annotated_frames(finding: Finding, count: int = MAX_ANNOTATED_FRAMES) -> list[Picture]:
    by_time: dict[float, list[FaceMark]] = {}
    for mark in finding.marks:
        by_time.setdefault(round(mark.time_s, 3), []).append(mark)
    chosen = sorted(sorted(by_time, key=lambda t: (-len(by_time[t]), t))[:count])
    pictures = []
    for time_s in chosen:
        frame = frame_at(finding.media, time_s)
        drawn = draw_sovtp_frame(frame, by_time[time_s])
        people = ", ".join(f"#{mark.track_id}" for mark in by_time[time_s])
        caption = f"{Path(finding.media).name} at {time_s:.2f} s, faces {people} numbered as in the result"
        if any(label.startswith("AU") for mark in by_time[time_s] for label in mark.labels):
            caption += "; AU values are estimates from the face mesh's geometry"
        pictures.append(Picture(jpeg(drawn), "image/jpeg", caption))
    return pictures


def written_files(finding: Finding) -> list[Picture]:
    pictures = []
    for name in dict.fromkeys(finding.files):
        path = Path(name)
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in MIME:
            pictures.append(Picture(path.read_bytes(), MIME[suffix], f"{path.name}, the file {finding.tool} wrote"))
            continue
        info = probe_media(path)
        if info.kind == "video":
            middle = info.duration_s / 2
            caption = f"{path.name} (video written by {finding.tool}), its frame at {middle:.2f} s"
            pictures.append(Picture(jpeg(frame_at(str(path), middle)), "image/jpeg", caption))
    return pictures


def frame_at(media: str, time_s: float) -> np.ndarray:
    return next(iter(iter_frames(media, start_s=max(time_s - 1e-3, 0.0)))).image


def jpeg(image_rgb: np.ndarray, quality: int = 88) -> bytes:
    image = Image.fromarray(np.asarray(image_rgb, dtype=np.uint8))
    if max(image.size) > MAX_SIDE_PX:
        scale = MAX_SIDE_PX / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
