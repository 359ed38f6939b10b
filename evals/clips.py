"""Test and benchmark videos composed from real photos (no package ships a video of a real face).

What a composed clip can test: detection, tracking and identity under motion, scale change, occlusion and
people crossing, plus decoding/encoding and timing. What it cannot: real head motion, expression dynamics,
lighting change, motion blur of real cameras. Frames are produced lazily so long clips cost no memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from evals.samples import astronaut, group_photo_path, tom_hanks_path
from tools.media import load_image, write_video

# Head-and-shoulders crops (x0, y0, x1, y1) of the people in insightface's t1.jpg, left to right.
GROUP_PEOPLE_CROPS = [
    (17, 240, 218, 450),
    (230, 120, 422, 320),
    (400, 240, 645, 470),
    (690, 310, 910, 525),
    (850, 25, 1080, 260),
    (1075, 235, 1290, 450),
]


@lru_cache(maxsize=1)
def group_photo() -> np.ndarray:
    return load_image(group_photo_path())


def astronaut_head() -> np.ndarray:
    """The astronaut's head and shoulders (RGB)."""
    return astronaut()[20:260, 110:350].copy()


def group_person(index: int) -> np.ndarray:
    """Head-and-shoulders crop of person ``index`` (0-5, left to right) of t1.jpg (RGB)."""
    x0, y0, x1, y1 = GROUP_PEOPLE_CROPS[index]
    photo = group_photo()
    return photo[y0 : min(y1, photo.shape[0]), x0 : min(x1, photo.shape[1])].copy()


def tom_hanks() -> np.ndarray:
    return load_image(tom_hanks_path())


@dataclass(frozen=True)
class Sprite:
    """A photo moving over the background: ``path(t)`` gives its centre (x, y) and height in pixels at time t."""

    image: np.ndarray
    path: Callable[[float], tuple[float, float, float]]


def background(width: int, height: int) -> np.ndarray:
    """A soft, face-free backdrop: a warm vertical gradient with low-frequency mottling (seeded, so every clip
    is the same). Blurred photos of people make BlazeFace see faces in the blur; this does not."""
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([96, 110, 128], np.float32), np.array([150, 132, 112], np.float32)
    gradient = np.broadcast_to(top + (bottom - top) * rows, (height, width, 3))
    noise = np.random.default_rng(7).normal(0.0, 1.0, (max(2, height // 40), max(2, width // 40), 1))
    mottling = cv2.resize(noise.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    return np.clip(gradient + 4.0 * mottling, 0, 255).astype(np.uint8)


def render_frames(sprites: list[Sprite], seconds: float, fps: float, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) of the sprites over the background, drawn in order (later sprites occlude earlier)."""
    width, height = size
    base = background(width, height)
    for index in range(round(seconds * fps)):
        t = index / fps
        frame = base.copy()
        for sprite in sprites:
            cx, cy, sprite_h = sprite.path(t)
            _paste(frame, sprite.image, cx, cy, sprite_h)
        yield frame


def _paste(frame: np.ndarray, image: np.ndarray, cx: float, cy: float, target_h: float) -> None:
    scale = target_h / image.shape[0]
    w, h = max(2, round(image.shape[1] * scale)), max(2, round(image.shape[0] * scale))
    resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    frame[fy0:fy1, fx0:fx1] = resized[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]


def pan_zoom_clip(
    path: str | Path,
    seconds: float = 4.0,
    fps: float = 10.0,
    size: tuple[int, int] = (640, 360),
    image: np.ndarray | None = None,
    audio: np.ndarray | None = None,
) -> Path:
    """One person (the astronaut by default) panning left to right while zooming from 40% to 80% of the height."""
    width, height = size
    head = astronaut_head() if image is None else image

    def path_of(t: float) -> tuple[float, float, float]:
        u = t / seconds
        return (0.25 + 0.5 * u) * width, 0.5 * height, (0.4 + 0.4 * u) * height

    return write_video(path, render_frames([Sprite(head, path_of)], seconds, fps, size), fps, audio=audio)


def crossing_clip(
    path: str | Path,
    seconds: float = 4.0,
    fps: float = 10.0,
    size: tuple[int, int] = (640, 360),
    left: np.ndarray | None = None,
    right: np.ndarray | None = None,
) -> Path:
    """Two people crossing: one walks left to right, the other right to left, passing in front at mid-clip."""
    width, height = size
    person_a = astronaut_head() if left is None else left
    person_b = group_person(2) if right is None else right

    def walk(start: float, end: float, y: float) -> Callable[[float], tuple[float, float, float]]:
        return lambda t: ((start + (end - start) * t / seconds) * width, y * height, 0.45 * height)

    sprites = [Sprite(person_b, walk(0.85, 0.15, 0.52)), Sprite(person_a, walk(0.15, 0.85, 0.48))]
    return write_video(path, render_frames(sprites, seconds, fps, size), fps)


def benchmark_clip(
    path: str | Path, seconds: float = 30.0, fps: float = 25.0, size: tuple[int, int] = (1280, 720)
) -> Path:
    """A 720p clip of three people moving slowly (a realistic interview-like load for the face pipeline)."""
    width, height = size

    def drift(x: float, y: float, amp: float, period: float, h: float) -> Callable[[float], tuple[float, float, float]]:
        return lambda t: (
            x * width + amp * width * np.sin(2 * np.pi * t / period),
            y * height,
            h * height * (1.0 + 0.1 * np.sin(2 * np.pi * t / (period * 1.7))),
        )

    sprites = [
        Sprite(astronaut_head(), drift(0.2, 0.5, 0.05, 9.0, 0.42)),
        Sprite(group_person(2), drift(0.52, 0.45, 0.04, 7.0, 0.38)),
        Sprite(group_person(4), drift(0.82, 0.55, 0.05, 11.0, 0.40)),
    ]
    return write_video(path, render_frames(sprites, seconds, fps, size), fps)
