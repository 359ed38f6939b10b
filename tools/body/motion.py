"""Cues that live in motion rather than in one frame: fidgeting energy and stillness, nods and head shakes.

Energy is how fast a person's hands (the hand model's) move relative to their face, in shoulder widths per
second (the whole person sliding across the frame does not count). Nods and shakes are back-and-forth swings of
the head's pitch and yaw (from the face mesh), found with a zig-zag filter: a swing counts when the angle
reverses by at least ``SWING_DEG`` within ``SWING_S``; two swings in a row (down and back up, or one way and
back) make a nod (pitch) or a shake (yaw).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from tools.body.cues import shoulder_width
from tools.body.types import BodyCue, BodyFrame, CueKind, Movement
from tools.faces.types import Track

# Shoulder widths per second: below this the hands are still. A real hand pasted still on a still photo reads
# 0.2-0.25 at 5 fps (the hand landmarks and the face box each jitter by a few pixels).
STILL_ENERGY = 0.3
FIDGET_ENERGY = 0.5  # shoulder widths per second, sustained over a window with back-and-forth motion
FIDGET_WINDOW = 6  # body samples per window
FIDGET_REVERSALS = 2  # direction reversals of the hands in a window
HAND_SAME = 0.5  # a hand on the next frame is the same hand if its wrist is this many shoulder widths away
SWING_DEG = 6.0
SWING_S = 1.0


def _step_velocity(a: BodyFrame, b: BodyFrame) -> np.ndarray | None:
    """The fastest-moving hand between two body frames, relative to the shoulders, in shoulder widths per second.

    Only hands the hand model found on both frames count (the same hand: nearest wrists). The pose model's own
    wrists are not used: when the arms are out of view it still places them, with high visibility, jittering by a
    tenth of a shoulder width from frame to frame (measured on the astronaut, whose hands are out of the photo).
    A hand coming into view is not motion.
    """
    if a.pose is None or b.pose is None or (width := shoulder_width(b.pose)) is None or not a.hands:
        return None
    dt = b.time_s - a.time_s
    if dt <= 0:
        return None
    # The person moving as a whole (their face moving) is not fidgeting; the pose's shoulders jitter too much to
    # serve as that reference.
    shift = np.subtract(b.face_box.center, a.face_box.center)
    moves = []
    for hand in b.hands:
        before = min(a.hands, key=lambda h: float(np.linalg.norm(h[0] - hand[0])))
        if float(np.linalg.norm(before[0] - hand[0])) <= HAND_SAME * width:
            moves.append(hand.mean(axis=0) - before.mean(axis=0))
    if not moves:
        return None
    velocities = [(m - shift) / width / dt for m in moves]
    return max(velocities, key=lambda v: float(np.linalg.norm(v)))


def movement(frames: Sequence[BodyFrame]) -> tuple[Movement, list[BodyCue]]:
    """The person's hand energy, share of still time, and fidgeting stretches (``frames`` in time order)."""
    steps: list[tuple[BodyFrame, np.ndarray, float]] = []
    starts: list[int] = []  # the frame each step starts from, so that windows never jump over unseen stretches
    for a, b in itertools.pairwise(frames):
        velocity = _step_velocity(a, b)
        if velocity is not None:
            steps.append((b, velocity, float(np.linalg.norm(velocity))))
            starts.append(a.frame_index)
    if not steps:
        return Movement(None, None), []
    speeds = [s for _, _, s in steps]
    energy = float(np.median(speeds))
    still = float(np.mean(np.array(speeds) < STILL_ENERGY))
    cues: list[BodyCue] = []
    index = 0
    while index + FIDGET_WINDOW <= len(steps):
        window = steps[index : index + FIDGET_WINDOW]
        chained = all(starts[index + k + 1] == window[k][0].frame_index for k in range(FIDGET_WINDOW - 1))
        if not chained:
            index += 1
            continue
        mean_speed = float(np.mean([s for _, _, s in window]))
        reversals = _reversals(np.array([v for _, v, _ in window]))
        if mean_speed >= FIDGET_ENERGY and reversals >= FIDGET_REVERSALS:
            frames_in = tuple(f.frame_index for f, _, _ in window)
            detail = f"hands moving {mean_speed:.2f} shoulder widths/s back and forth ({reversals} reversals)"
            if cues and cues[-1].frames[-1] >= frames_in[0]:
                last = cues[-1]
                merged = tuple(sorted(set(last.frames) | set(frames_in)))
                cues[-1] = BodyCue(
                    "fidgeting", last.start_s, window[-1][0].time_s, merged, max(last.strength, mean_speed), detail
                )
            else:
                cues.append(
                    BodyCue("fidgeting", window[0][0].time_s, window[-1][0].time_s, frames_in, mean_speed, detail)
                )
        index += 1
    return Movement(energy, still), cues


def _reversals(velocities: np.ndarray) -> int:
    """How often the motion turns back along its main axis."""
    if len(velocities) < 3:
        return 0
    centred = velocities - velocities.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    along = velocities @ axes[0]
    signs = np.sign(along[np.abs(along) > STILL_ENERGY])
    return int(np.sum(signs[1:] != signs[:-1]))


def zigzag(times: Sequence[float], angles: Sequence[float], swing_deg: float = SWING_DEG) -> list[tuple[float, float]]:
    """The turning points (time, angle) of a series, keeping only reversals of at least ``swing_deg``."""
    points: list[tuple[float, float]] = []
    if not angles:
        return points
    low = high = (times[0], angles[0])
    direction = 0
    for t, a in zip(times, angles, strict=True):
        if direction >= 0:
            if a > high[1]:
                high = (t, a)
            if high[1] - a >= swing_deg:
                points.append(high)
                direction, low = -1, (t, a)
                continue
        if direction <= 0:
            if a < low[1]:
                low = (t, a)
            if a - low[1] >= swing_deg:
                points.append(low)
                direction, high = 1, (t, a)
    pending = low if direction < 0 else high if direction > 0 else None
    if pending is not None and points and abs(pending[1] - points[-1][1]) >= swing_deg and pending[0] > points[-1][0]:
        points.append(pending)  # the last swing ends where the series stops moving, not at another reversal
    return points


def head_gestures(track: Track) -> list[BodyCue]:
    """Nods (pitch swings) and head shakes (yaw swings) of one face track."""
    faces = [f for f in track.faces if f.pose is not None and f.time_s is not None]
    if len(faces) < 4:
        return []
    times = [float(f.time_s or 0.0) for f in faces]
    cues: list[BodyCue] = []
    series: tuple[tuple[CueKind, list[float]], ...] = (
        ("nod", [f.pose.pitch_deg for f in faces if f.pose is not None]),
        ("head_shake", [f.pose.yaw_deg for f in faces if f.pose is not None]),
    )
    for kind, angles in series:
        turns = zigzag(times, angles)
        run: list[tuple[float, float]] = []
        for turn in [*turns, None]:
            if turn is not None and (not run or turn[0] - run[-1][0] <= SWING_S):
                run.append(turn)
                continue
            if len(run) >= 3:  # two swings: down and up again (a nod), or one way and back (a shake)
                amplitude = max(abs(b[1] - a[1]) for a, b in itertools.pairwise(run))
                start, end = run[0][0], run[-1][0]
                frames = tuple(int(f.frame_index or 0) for f in faces if start <= float(f.time_s or 0.0) <= end)
                axis = "pitch" if kind == "nod" else "yaw"
                detail = f"{len(run) - 1} head {axis} swing(s) of up to {amplitude:.0f} degrees (mesh head pose)"
                cues.append(BodyCue(kind, start, end, frames, amplitude, detail))
            run = [turn] if turn is not None else []
    return cues
