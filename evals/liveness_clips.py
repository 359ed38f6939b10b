"""Liveness test clips composed from a real photo: a "live" face whose skin pulses at a known rate, and the same
photo held to the camera with no pulse.

The pulse is injected as a tiny periodic tint of the skin (inside the face mesh's outline), strongest in green as
blood absorption is (relative RGB weights 0.33 / 0.77 / 0.53, de Haan and Jeanne 2013), with per-pixel sensor
noise and head motion (translation, zoom) on every frame, then H.264-encoded. What this can test: that POS
recovers a known rate through motion, noise and compression, and finds none in an unmodulated photo. What it
cannot: real skin optics, real heartbeat variability, real lighting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from evals.clips import astronaut_head, background
from tools.media import write_video

PULSE_RGB_WEIGHTS = np.array([0.33, 0.77, 0.53], np.float32)


def skin_mask(image_rgb: np.ndarray) -> np.ndarray:
    """(H, W) float mask of the face inside the mesh outline of the one face in ``image_rgb`` (eyes included)."""
    from tools.faces import FaceOptions, analyze_image

    faces = analyze_image(image_rgb, FaceOptions(mesh=True, pose=False, embeddings=False))
    if not faces or faces[0].mesh is None:
        raise ValueError("no face mesh in the photo")
    hull = cv2.convexHull(faces[0].mesh[:, :2].astype(np.float32)).astype(np.int32)
    mask = np.zeros(image_rgb.shape[:2], np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    return cv2.GaussianBlur(mask, (0, 0), 2.0)


def pulse_clip(
    path: str | Path,
    bpm: float | None,
    seconds: float = 10.0,
    fps: float = 15.0,
    amplitude: float = 0.012,
    noise: float = 2.0,
    motion_px: float = 10.0,
    size: tuple[int, int] = (320, 240),
    image: np.ndarray | None = None,
    seed: int = 0,
    head_at: Callable[[float], np.ndarray] | None = None,
    crf: int = 18,
) -> Path:
    """A clip of ``image`` (the astronaut by default) moving, its skin tinted at ``bpm`` (None: a still photo).

    ``amplitude`` is the peak relative change of the green channel (real pulses are about 0.5-2 %).
    ``head_at(t)`` may give another version of the photo at time t (same size; e.g. with the eyes warped shut
    for a blink).
    """
    rng = np.random.default_rng(seed)
    head = astronaut_head() if image is None else image
    mask = skin_mask(head)[..., None]
    width, height = size
    base = background(width, height).astype(np.float32)
    target_h = 0.8 * height
    phase = rng.uniform(0, 2 * np.pi)

    def frames() -> Iterator[np.ndarray]:
        for index in range(round(seconds * fps)):
            t = index / fps
            face = (head if head_at is None else head_at(t)).astype(np.float32)
            if bpm is not None:
                tint = amplitude * np.sin(2 * np.pi * bpm / 60.0 * t + phase) * PULSE_RGB_WEIGHTS / PULSE_RGB_WEIGHTS[1]
                face = face * (1.0 + mask * tint)
            scale = target_h / head.shape[0] * (1.0 + 0.04 * np.sin(2 * np.pi * 0.23 * t))
            cx = width / 2 + motion_px * np.sin(2 * np.pi * 0.31 * t) + rng.normal(0, 0.3)
            cy = height / 2 + 0.5 * motion_px * np.sin(2 * np.pi * 0.47 * t) + rng.normal(0, 0.3)
            matrix = np.array([[scale, 0, cx - scale * head.shape[1] / 2], [0, scale, cy - scale * head.shape[0] / 2]])
            warped = cv2.warpAffine(face, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
            inside = cv2.warpAffine(np.ones(head.shape[:2], np.float32), matrix, size, flags=cv2.INTER_LINEAR)[
                ..., None
            ]
            frame = warped * inside + base * (1 - inside) + rng.normal(0, noise, (height, width, 3))
            yield np.clip(frame + 0.5, 0, 255).astype(np.uint8)

    return write_video(path, frames(), fps, crf=crf)
