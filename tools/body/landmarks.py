"""Pose and hand landmarks for one tracked person: mediapipe 0.10.21's bundled pose (full) and hand models.

Both legacy solutions find one body per image, so each person's body is looked for in a crop around their
tracked face (wide enough for the arms, tall enough for the torso), and accepted only when the pose's nose lands
inside that face's box: that is what ties a body to a face track. Hands found in the crop are kept when their
wrist is near this body's own wrist, or, with no arm visible, when they lie in this person's crop only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from tools.faces.mediapipe_quiet import solutions
from tools.faces.types import Box

# The crop around a face box of width w and height h: this many widths to each side, heights above and below.
CROP_SIDE_W = 2.3
CROP_ABOVE_H = 0.6
CROP_BELOW_H = 4.5
# The pose model sees the crop resized so that its longer side is at most this (it works at 256 px inside).
MAX_CROP_SIDE_PX = 640
# The pose nose must fall in the face box grown by this factor.
NOSE_BOX_GROWTH = 1.4
# A hand belongs to the body whose pose wrist is within this many shoulder widths of the hand's wrist.
HAND_WRIST_MATCH = 0.6
MIN_POSE_SCORE = 0.5
MIN_HAND_SCORE = 0.5

NOSE, LEFT_WRIST, RIGHT_WRIST = 0, 15, 16
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12


@dataclass(frozen=True)
class BodyPoints:
    """``pose`` (33, 3): x, y pixels and visibility; ``hands``: (21, 2) pixel arrays."""

    pose: np.ndarray | None
    hands: list[np.ndarray]


def person_crop(face_box: Box, width: int, height: int) -> Box:
    """The part of the frame where the body of the person with ``face_box`` should be."""
    w, h = face_box.width, face_box.height
    cx = face_box.center[0]
    box = Box(
        cx - (CROP_SIDE_W + 0.5) * w,
        face_box.y0 - CROP_ABOVE_H * h,
        cx + (CROP_SIDE_W + 0.5) * w,
        face_box.y1 + CROP_BELOW_H * h,
    )
    return box.clipped(width, height)


class BodyLandmarker:
    """Runs the pose and hand models on person crops. One instance per process (the graphs are not reentrant)."""

    name = "mediapipe-pose-hands"

    def __init__(self) -> None:
        mp = solutions()
        self._pose = mp.pose.Pose(
            static_image_mode=True,
            model_complexity=1,
            enable_segmentation=False,
            min_detection_confidence=MIN_POSE_SCORE,
        )
        self._hands = mp.hands.Hands(
            static_image_mode=True, max_num_hands=2, model_complexity=1, min_detection_confidence=MIN_HAND_SCORE
        )
        self._lock = threading.Lock()

    def body_of(self, image_rgb: np.ndarray, face_box: Box) -> BodyPoints:
        """The pose and hands of the person whose face is ``face_box`` (frame pixels), or an empty result."""
        height, width = image_rgb.shape[:2]
        crop_box = person_crop(face_box, width, height)
        x0, y0 = int(crop_box.x0), int(crop_box.y0)
        crop = image_rgb[y0 : int(np.ceil(crop_box.y1)), x0 : int(np.ceil(crop_box.x1))]
        if crop.shape[0] < 32 or crop.shape[1] < 32:
            return BodyPoints(None, [])
        scale = min(1.0, MAX_CROP_SIDE_PX / max(crop.shape[:2]))
        if scale < 1.0:
            crop = cv2.resize(
                crop, (round(crop.shape[1] * scale), round(crop.shape[0] * scale)), interpolation=cv2.INTER_AREA
            )
        crop = np.ascontiguousarray(crop)
        ch, cw = crop.shape[:2]
        with self._lock:
            pose_result = self._pose.process(crop)
            hand_result = self._hands.process(crop)
        pose = None
        if pose_result.pose_landmarks:
            points = np.array([(p.x * cw, p.y * ch, p.visibility) for p in pose_result.pose_landmarks.landmark])
            points[:, :2] = points[:, :2] / scale + (x0, y0)
            if _nose_in_face(points, face_box):
                pose = points
        hands = []
        for landmarks in hand_result.multi_hand_landmarks or []:
            hand = np.array([(p.x * cw, p.y * ch) for p in landmarks.landmark]) / scale + (x0, y0)
            if _hand_belongs(hand, pose):
                hands.append(hand)
        return BodyPoints(pose, hands)


def _nose_in_face(pose: np.ndarray, face_box: Box) -> bool:
    x, y = pose[NOSE, :2]
    grown = face_box.expanded(NOSE_BOX_GROWTH)
    return bool(grown.x0 <= x <= grown.x1 and grown.y0 <= y <= grown.y1)


def _hand_belongs(hand: np.ndarray, pose: np.ndarray | None) -> bool:
    """A hand is this person's if one of the body's wrists is near it; with no body, the crop decides."""
    if pose is None:
        return True
    shoulder = float(np.linalg.norm(pose[LEFT_SHOULDER, :2] - pose[RIGHT_SHOULDER, :2]))
    wrists = [pose[i, :2] for i in (LEFT_WRIST, RIGHT_WRIST) if pose[i, 2] >= 0.3]
    if not wrists or shoulder <= 0:
        return True  # the arms are out of view (a hand at the face with no forearm in the crop)
    distance = min(float(np.linalg.norm(hand[0] - wrist)) for wrist in wrists)
    return distance <= HAND_WRIST_MATCH * shoulder or _near_face_line(hand, pose, shoulder)


def _near_face_line(hand: np.ndarray, pose: np.ndarray, shoulder: float) -> bool:
    """Pose wrists are unreliable when a hand covers the face; a hand within a shoulder width of the nose counts."""
    return float(np.linalg.norm(hand.mean(axis=0) - pose[NOSE, :2])) <= shoulder


_shared: BodyLandmarker | None = None
_shared_lock = threading.Lock()


def get_body_landmarker() -> BodyLandmarker:
    """The process-wide landmarker (loading the two graphs takes about a second)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BodyLandmarker()
        return _shared
