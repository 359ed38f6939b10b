"""Drawing faces on frames: numbered boxes, landmarks, pose and names. Also the visual half of SoVTP prompts."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from tools.faces.types import Face

PALETTE = [
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 190),
    (0, 128, 128),
]


def color_for(number: int) -> tuple[int, int, int]:
    """A stable RGB colour per face/track number."""
    return PALETTE[(number - 1) % len(PALETTE)]


def draw_faces(
    image_rgb: np.ndarray,
    faces: Sequence[Face],
    *,
    landmarks: bool = True,
    pose: bool = True,
    labels: dict[int, list[str]] | None = None,
) -> np.ndarray:
    """A copy of ``image_rgb`` (H, W, 3) with each face's number (track id), box, landmarks and label lines.

    ``labels`` maps a face number to extra lines (e.g. AUs or an emotion) drawn under its box.
    """
    canvas = np.ascontiguousarray(image_rgb[..., :3]).copy()
    scale = max(canvas.shape[:2]) / 800.0
    thickness = max(1, round(2 * scale))
    for index, face in enumerate(faces, start=1):
        number = face.track_id or index
        color = color_for(number)
        box = face.box
        cv2.rectangle(canvas, (round(box.x0), round(box.y0)), (round(box.x1), round(box.y1)), color, thickness)
        if landmarks:
            _draw_points(canvas, face, color, scale)
        lines = [f"#{number}" + (f" {face.identity}" if face.identity else "")]
        if pose and face.pose is not None:
            p = face.pose
            lines.append(f"yaw {p.yaw_deg:+.0f} pitch {p.pitch_deg:+.0f} roll {p.roll_deg:+.0f}")
        lines.extend((labels or {}).get(number, []))
        _draw_label(canvas, lines, (round(box.x0), round(box.y0)), round(box.y1), color, scale)
    return canvas


def _draw_points(canvas: np.ndarray, face: Face, color: tuple[int, int, int], scale: float) -> None:
    radius = max(1, round(scale))
    if face.mesh is not None:
        for x, y in face.mesh[::3, :2]:
            cv2.circle(canvas, (round(float(x)), round(float(y))), radius, (255, 255, 255), -1)
    points = face.landmarks5 if face.landmarks5 is not None else face.landmarks68
    if points is not None:
        for x, y in points:
            cv2.circle(canvas, (round(float(x)), round(float(y))), radius + 1, color, -1)


def _draw_label(
    canvas: np.ndarray,
    lines: list[str],
    top_left: tuple[int, int],
    bottom: int,
    color: tuple[int, int, int],
    scale: float,
) -> None:
    font_scale = max(0.4, 0.5 * scale)
    thick = max(1, round(scale))
    height = canvas.shape[0]
    line_h = round(18 * font_scale / 0.5)
    y = top_left[1] - 4 - line_h * (len(lines) - 1)
    if y - line_h < 0:
        y = min(bottom + line_h, height - line_h * len(lines))
    for line in lines:
        (w, h), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        x = top_left[0]
        cv2.rectangle(canvas, (x, y - h - 3), (x + w + 4, y + 3), color, -1)
        cv2.putText(canvas, line, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), thick, cv2.LINE_AA)
        y += line_h
