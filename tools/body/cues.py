"""Frame-level body cues from pose and hand landmarks, and the stretches of time they hold for.

Every rule is geometry in units of the person's own shoulder width (so distance from the camera does not matter)
or of their face box. Posture (lean, slump, raised shoulders) compares a frame with the same person's median over
the clip, so it needs a video; touches, crossed arms and grips are read on every frame. The thresholds are set
from what a cue means geometrically (a hand "at the face" has a quarter of its points on the face), not fitted to
a data set: the cues are heuristics and are named as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tools.body.types import BodyCue, BodyFrame, CueKind
from tools.faces.types import Box

NOSE, LEFT_EAR, RIGHT_EAR = 0, 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW = 11, 12, 13, 14
LEFT_WRIST, RIGHT_WRIST, LEFT_HIP, RIGHT_HIP = 15, 16, 23, 24
HAND_WRIST, THUMB_TIP, INDEX_TIP, MIDDLE_MCP = 0, 4, 8, 9
FINGER_TIPS = (8, 12, 16, 20)

VISIBLE = 0.5
TOUCH_POINTS = 0.25  # share of a hand's 21 points inside the face (or neck) region that makes a touch
LEAN_IN_RATIO, LEAN_AWAY_RATIO = 1.12, 0.89  # the face's size against the person's median
# Posture gaps are in inter-ocular distances (IOD): about 0.4 shoulder widths on an adult facing the camera.
RAISE_GAP = 0.2  # ear-to-shoulder gap shrinking by this many IODs, with the head in place
SLUMP_DROP = 0.25  # nose sinking towards the shoulders by this many IODs
HEAD_STEADY = 0.15  # how far (IODs) the nose may move while the shoulders rise
GRIP_RATIO = 0.45  # thumb tip to index tip closer than this share of the palm: a pinch or grip
MIN_POSTURE_FRAMES = 5  # body samples needed before a median posture means anything


@dataclass(frozen=True)
class FrameCues:
    """The cues that hold on one body frame, with their measures (kind -> strength)."""

    frame: BodyFrame
    cues: dict[CueKind, float]


def shoulder_width(pose: np.ndarray) -> float | None:
    if pose[LEFT_SHOULDER, 2] < VISIBLE or pose[RIGHT_SHOULDER, 2] < VISIBLE:
        return None
    width = float(np.linalg.norm(pose[LEFT_SHOULDER, :2] - pose[RIGHT_SHOULDER, :2]))
    return width if width > 1.0 else None


def _inside(points: np.ndarray, box: Box) -> np.ndarray:
    return (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)


def neck_region(face: Box, pose: np.ndarray | None) -> Box:
    """Below the chin, about as wide as the face, down to just under the shoulder line (or one face height)."""
    bottom = face.y1 + face.height
    if pose is not None and (width := shoulder_width(pose)) is not None:
        bottom = float(pose[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].mean()) + 0.15 * width
    pad = 0.15 * face.width
    return Box(face.x0 - pad, face.y1 - 0.1 * face.height, face.x1 + pad, max(bottom, face.y1 + 0.3 * face.height))


def touches(frame: BodyFrame) -> tuple[float, float, int]:
    """(share of a hand on the face, share on the neck, hands touching either), the largest share over hands.

    With no hand landmarks, a visible pose index finger or wrist in the face box counts as a face touch of 0.25.
    """
    face_box = frame.face_box.expanded(1.05)
    neck = neck_region(frame.face_box, frame.pose)
    best_face = best_neck = 0.0
    touching = 0
    for hand in frame.hands:
        on_face = float(_inside(hand, face_box).mean())
        on_neck = float((_inside(hand, neck) & ~_inside(hand, face_box)).mean())
        best_face, best_neck = max(best_face, on_face), max(best_neck, on_neck)
        touching += int(on_face >= TOUCH_POINTS or on_neck >= TOUCH_POINTS)
    if not frame.hands and frame.pose is not None:
        tips = frame.pose[[19, 20, LEFT_WRIST, RIGHT_WRIST]]
        if bool(np.any(_inside(tips[:, :2], face_box) & (tips[:, 2] >= VISIBLE))):
            best_face, touching = TOUCH_POINTS, 1
    return best_face, best_neck, touching


def arms_crossed(pose: np.ndarray) -> float:
    """How far (shoulder widths) both wrists have crossed the body's midline below the shoulders; 0 if not."""
    width = shoulder_width(pose)
    if width is None or pose[LEFT_WRIST, 2] < VISIBLE or pose[RIGHT_WRIST, 2] < VISIBLE:
        return 0.0
    mid_x = float(pose[[LEFT_SHOULDER, RIGHT_SHOULDER], 0].mean())
    shoulder_y = float(pose[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].mean())
    # Each wrist must sit on the side of the *other* shoulder, between the shoulder line and 1.6 widths below.
    crossing = []
    for wrist, other in ((LEFT_WRIST, RIGHT_SHOULDER), (RIGHT_WRIST, LEFT_SHOULDER)):
        side = np.sign(pose[other, 0] - mid_x)
        depth = (pose[wrist, 1] - shoulder_y) / width
        crossing.append(float((pose[wrist, 0] - mid_x) * side / width) if 0.0 < depth < 1.6 else -1.0)
    return min(crossing) if min(crossing) > 0.05 else 0.0


def grip(hand: np.ndarray) -> float:
    """Thumb-to-index distance over palm length, when the hand is in a pinch or grip; 0 otherwise."""
    palm = float(np.linalg.norm(hand[MIDDLE_MCP] - hand[HAND_WRIST]))
    if palm <= 1.0:
        return 0.0
    pinch = float(np.linalg.norm(hand[THUMB_TIP] - hand[INDEX_TIP])) / palm
    return 1.0 - pinch / GRIP_RATIO if pinch < GRIP_RATIO else 0.0


@dataclass(frozen=True)
class PostureRow:
    """One frame's posture in units of the face's inter-ocular distance (IOD): ``scale`` the IOD in pixels,
    ``width`` the shoulder width in pixels, the ear-to-shoulder and nose-to-shoulder gaps, and the nose height."""

    scale: float
    width: float
    ear_gap: float
    nose_gap: float
    nose_y: float


def posture_row(frame: BodyFrame) -> PostureRow | None:
    pose = frame.pose
    if pose is None or frame.face_scale is None or (width := shoulder_width(pose)) is None:
        return None
    scale = frame.face_scale
    shoulder_y = float(pose[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].mean())
    ears = [pose[i, 1] for i in (LEFT_EAR, RIGHT_EAR) if pose[i, 2] >= VISIBLE]
    ear_y = float(np.mean(ears)) if ears else float(pose[NOSE, 1])
    nose_y = float(pose[NOSE, 1])
    return PostureRow(scale, width, (shoulder_y - ear_y) / scale, (shoulder_y - nose_y) / scale, nose_y)


def smoothed_rows(frames: Sequence[BodyFrame]) -> list[PostureRow | None]:
    """Each frame's posture, median-filtered over it and its neighbours (the pose model jitters from frame to
    frame by several percent on a still photo; a gesture lasts longer than three samples)."""
    rows = [posture_row(frame) for frame in frames]
    out: list[PostureRow | None] = []
    for index, row in enumerate(rows):
        near = [r for r in rows[max(0, index - 1) : index + 2] if r is not None]
        if row is None or not near:
            out.append(None)
            continue
        values = np.median(np.array([[r.scale, r.width, r.ear_gap, r.nose_gap, r.nose_y] for r in near]), axis=0)
        out.append(PostureRow(*(float(v) for v in values)))
    return out


@dataclass(frozen=True)
class PostureReference:
    """One person's median posture over the clip, against which each frame is compared."""

    row: PostureRow

    @classmethod
    def of(cls, rows: Sequence[PostureRow | None]) -> PostureReference | None:
        present = [r for r in rows if r is not None]
        if len(present) < MIN_POSTURE_FRAMES:
            return None
        values = np.median(np.array([[r.scale, r.width, r.ear_gap, r.nose_gap, r.nose_y] for r in present]), axis=0)
        return cls(PostureRow(*(float(v) for v in values)))


def posture_cues(row: PostureRow, reference: PostureReference) -> dict[CueKind, float]:
    """Lean (the face's size against its median, shoulders agreeing), raised shoulders and slump (the gaps)."""
    ref = reference.row
    cues: dict[CueKind, float] = {}
    ratio, shoulders = row.scale / ref.scale, row.width / ref.width
    if ratio >= LEAN_IN_RATIO and shoulders >= 1.0:
        cues["lean_in"] = ratio
    elif ratio <= LEAN_AWAY_RATIO and shoulders <= 1.0:
        cues["lean_away"] = ratio
    head_moved = abs(row.nose_y - ref.nose_y) / ref.scale
    if "lean_in" in cues or "lean_away" in cues:
        return cues
    if ref.ear_gap - row.ear_gap >= RAISE_GAP and head_moved <= HEAD_STEADY:
        cues["shoulders_raised"] = ref.ear_gap - row.ear_gap
    elif ref.nose_gap - row.nose_gap >= SLUMP_DROP and row.nose_y > ref.nose_y:
        cues["slumped"] = ref.nose_gap - row.nose_gap
    return cues


def frame_cues(frame: BodyFrame, row: PostureRow | None = None, reference: PostureReference | None = None) -> FrameCues:
    """Every cue that holds on ``frame``; posture cues only with its (smoothed) ``row`` and a ``reference``."""
    cues: dict[CueKind, float] = {}
    on_face, on_neck, touching = touches(frame)
    if on_face >= TOUCH_POINTS:
        cues["hand_to_face"] = on_face
    elif on_neck >= TOUCH_POINTS:
        cues["hand_to_neck"] = on_neck
    pose = frame.pose
    crossed = arms_crossed(pose) if pose is not None else 0.0
    if crossed > 0:
        cues["arms_crossed"] = crossed
    if crossed > 0 or touching >= 2:
        cues["self_protection"] = max(crossed, float(touching) / 2.0)
    neck = neck_region(frame.face_box, pose)
    free = [h for h in frame.hands if not (_inside(h, frame.face_box).mean() > 0.1 or _inside(h, neck).mean() > 0.1)]
    held = max((grip(hand) for hand in free), default=0.0)
    if held > 0:
        cues["object_manipulation"] = held
    if row is not None and reference is not None:
        cues.update(posture_cues(row, reference))
    return FrameCues(frame, cues)


_DETAILS: dict[CueKind, str] = {
    "lean_in": "face {v:.2f}x its median size, shoulders wider too (estimate; moving closer looks the same)",
    "lean_away": "face {v:.2f}x its median size, shoulders narrower too (estimate; moving back looks the same)",
    "slumped": "nose {v:.2f} eye-distances lower towards the shoulders than the person's median",
    "shoulders_raised": "ear-to-shoulder gap {v:.2f} eye-distances shorter than the person's median, head in place",
    "arms_crossed": "both wrists {v:.2f} shoulder widths past the body's midline",
    "hand_to_face": "{v:.0%} of a hand's landmarks on the face",
    "hand_to_neck": "{v:.0%} of a hand's landmarks on the neck",
    "object_manipulation": "hand in a pinch or grip away from the face (no object detector: an estimate)",
    "self_protection": "crossed arms or both hands at the face or neck",
}


def cue_intervals(per_frame: Sequence[FrameCues], min_samples: int, max_gap: int = 1) -> list[BodyCue]:
    """Runs of frames showing the same cue, bridged over ``max_gap`` missing samples, at least ``min_samples``."""
    out: list[BodyCue] = []
    kinds = {kind for item in per_frame for kind in item.cues}
    for kind in sorted(kinds):
        run: list[FrameCues] = []
        misses = 0
        for item in [*per_frame, None]:
            if item is not None and kind in item.cues:
                run.append(item)
                misses = 0
                continue
            misses += 1
            if item is not None and run and misses <= max_gap:
                continue
            if len(run) >= min_samples:
                peak = max(run, key=lambda x: abs(x.cues[kind] - 1.0) if kind.startswith("lean") else x.cues[kind])
                value = peak.cues[kind]
                out.append(
                    BodyCue(
                        kind,
                        run[0].frame.time_s,
                        run[-1].frame.time_s,
                        tuple(x.frame.frame_index for x in run),
                        value,
                        _DETAILS[kind].format(v=value),
                    )
                )
            run, misses = [], 0
    return sorted(out, key=lambda cue: (cue.start_s, cue.kind))
