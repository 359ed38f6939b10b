"""A clip of known body gestures composed from real photos: the astronaut's upper body and real hands from t1.jpg.

What it holds, second by second (``BODY_SCRIPT``): still; a real hand (t1.jpg's Phoebe's, cut out along its own
hand landmarks) laid on her cheek; still; her whole upper body scaled up about the chest (what a lean towards the
camera looks like from the front); still; her torso lifted under a fixed head (raised shoulders); still; the hand
at her neck; still; a real hand holding a poker chip (t1.jpg's Chandler's) in front of her chest; still; that hand
moving back and forth (fidgeting); still.

What it can test: that the pose and hand models find these configurations and that the rules and their frames
come out right. What it cannot: real arm motion (the pasted hands have no forearm), real leaning (depth), real
slumping, crossed arms (no shipped photo shows them) or how people actually fidget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from evals.clips import background
from evals.samples import astronaut, group_photo_path
from tools.media import load_image, write_video

CLIP_SIZE = (640, 480)
CLIP_FPS = 10.0

# Regions of t1.jpg holding one hand each (x0, y0, x1, y1): Phoebe's free hand, Chandler's hand with a chip.
HAND_REGIONS = {"open": (950, 220, 1280, 700), "chip": (620, 280, 960, 650)}


@dataclass(frozen=True)
class Gesture:
    """One stretch of the script: ``kind`` is the body cue it shows (None: still), ``also`` other cues that are
    true of it (the fidgeting hand holds a chip, so it is also handling an object)."""

    kind: str | None
    start_s: float
    end_s: float
    also: tuple[str, ...] = ()

    def shows(self, kind: str) -> bool:
        return kind == self.kind or kind in self.also


BODY_SCRIPT: tuple[Gesture, ...] = (
    Gesture(None, 0.0, 2.0),
    Gesture("hand_to_face", 2.0, 3.0),
    Gesture(None, 3.0, 4.0),
    Gesture("lean_in", 4.0, 5.0),
    Gesture(None, 5.0, 6.0),
    Gesture("shoulders_raised", 6.0, 7.0),
    Gesture(None, 7.0, 8.0),
    Gesture("hand_to_neck", 8.0, 9.0),
    Gesture(None, 9.0, 10.0),
    Gesture("object_manipulation", 10.0, 11.0),
    Gesture(None, 11.0, 12.0),
    Gesture("fidgeting", 12.0, 13.6, also=("object_manipulation",)),
    Gesture(None, 13.6, 14.6),
)


@dataclass(frozen=True)
class HandCutout:
    """A real hand: RGB pixels, an alpha mask (its landmarks' hull, grown), and the hand's centre in the cutout."""

    rgb: np.ndarray
    alpha: np.ndarray
    centre: tuple[float, float]


def _region(which: str) -> np.ndarray:
    x0, y0, x1, y1 = HAND_REGIONS[which]
    return np.ascontiguousarray(load_image(group_photo_path())[y0:y1, x0:x1])


@lru_cache(maxsize=2)
def hand_points(which: str) -> np.ndarray:
    """(21, 2) mediapipe hand landmarks of the hand in ``HAND_REGIONS[which]``, in that region's pixels."""
    from tools.faces.mediapipe_quiet import solutions

    region = _region(which)
    with solutions().hands.Hands(static_image_mode=True, max_num_hands=1, model_complexity=1) as hands:
        found = hands.process(region).multi_hand_landmarks
    if not found:
        raise RuntimeError(f"no hand found in t1.jpg region {which}")
    return np.array([(p.x * region.shape[1], p.y * region.shape[0]) for p in found[0].landmark])


@lru_cache(maxsize=2)
def hand_cutout(which: str) -> HandCutout:
    """The hand in ``HAND_REGIONS[which]`` of t1.jpg, cut along the convex hull of its 21 landmarks."""
    region = _region(which)
    points = hand_points(which)
    size = float(np.ptp(points, axis=0).max())
    pad = int(0.25 * size)
    bx0, by0 = (points.min(axis=0) - pad).astype(int)
    bx1, by1 = (points.max(axis=0) + pad).astype(int)
    rgb = region[max(by0, 0) : by1, max(bx0, 0) : bx1].copy()
    mask = np.zeros(rgb.shape[:2], np.uint8)
    hull = cv2.convexHull((points - [max(bx0, 0), max(by0, 0)]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    mask = cv2.dilate(mask, np.ones((int(0.15 * size) | 1,) * 2, np.uint8))
    alpha = cv2.GaussianBlur(mask, (0, 0), 2.0).astype(np.float32) / 255.0
    centre = tuple((points.mean(axis=0) - [max(bx0, 0), max(by0, 0)]).tolist())
    return HandCutout(rgb, alpha, (float(centre[0]), float(centre[1])))


def paste_hand(image: np.ndarray, hand: HandCutout, cx: float, cy: float, scale: float) -> None:
    rgb = cv2.resize(hand.rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    alpha = cv2.resize(hand.alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)[..., None]
    x0, y0 = round(cx - hand.centre[0] * scale), round(cy - hand.centre[1] * scale)
    h, w = rgb.shape[:2]
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + w, image.shape[1]), min(y0 + h, image.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    under = image[fy0:fy1, fx0:fx1].astype(np.float32)
    a = alpha[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    over = rgb[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0].astype(np.float32)
    image[fy0:fy1, fx0:fx1] = np.clip(a * over + (1 - a) * under, 0, 255).astype(np.uint8)


def _scaled(image: np.ndarray, factor: float, cx: float, cy: float) -> np.ndarray:
    """``image`` scaled by ``factor`` about (cx, cy), same size (what leaning towards the camera looks like)."""
    matrix = np.array([[factor, 0.0, cx * (1 - factor)], [0.0, factor, cy * (1 - factor)]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _shoulders_up(image: np.ndarray, lift_px: float, chin_y: float, shoulder_y: float) -> np.ndarray:
    """The torso lifted by ``lift_px`` under a fixed head: rows below the chin sample from further down, fully
    from ``shoulder_y`` on, so the neck shortens and the shoulder line rises."""
    h, w = image.shape[:2]
    ys = np.arange(h, dtype=np.float32)
    ramp = np.clip((ys - chin_y) / max(shoulder_y - lift_px - chin_y, 1.0), 0.0, 1.0)
    source_y = ys + lift_px * ramp
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    map_y = np.tile(source_y[:, None], (1, w)).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def gesture_at(time_s: float) -> str | None:
    return next((g.kind for g in BODY_SCRIPT if g.start_s <= time_s < g.end_s), None)


def body_frames(fps: float = CLIP_FPS, size: tuple[int, int] = CLIP_SIZE) -> Iterator[np.ndarray]:
    """Frames of ``BODY_SCRIPT``: the astronaut (512 px) composed on a 640 x 480 backdrop."""
    width, height = size
    base = background(width, height)
    person = astronaut()
    side = height
    duration = BODY_SCRIPT[-1].end_s
    for index in range(round(duration * fps)):
        t = index / fps
        kind = gesture_at(t)
        image = person.copy()
        # Positions in the astronaut's own 512 px photo: her face spans x 165-285, y 50-190; shoulders at y ~250.
        if kind == "hand_to_face":
            paste_hand(image, hand_cutout("open"), 190.0, 150.0, 1.3)
        elif kind == "lean_in":
            image = _scaled(image, 1.22, 256.0, 330.0)
        elif kind == "shoulders_raised":
            image = _shoulders_up(image, 60.0, 185.0, 300.0)
        elif kind == "hand_to_neck":
            paste_hand(image, hand_cutout("open"), 226.0, 232.0, 1.3)
        elif kind == "object_manipulation":
            paste_hand(image, hand_cutout("chip"), 300.0, 410.0, 1.5)
        elif kind == "fidgeting":
            swing = 45.0 * np.sign(np.sin(2 * np.pi * 1.25 * (t - 12.0) + 1e-3))
            paste_hand(image, hand_cutout("chip"), 300.0 + swing, 410.0, 1.5)
        frame = base.copy()
        x0 = (width - side) // 2
        frame[:, x0 : x0 + side] = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
        yield frame


def body_clip(path: str | Path) -> Path:
    """Write the body-gesture clip (``BODY_SCRIPT``, 10 fps, 640 x 480) to ``path``."""
    return write_video(path, body_frames(), CLIP_FPS)
