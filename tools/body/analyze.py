"""``read_body_language``: each tracked person's body cues over a video or in an image.

The face pipeline's tracks say who is where; the body is read on every k-th of the face pipeline's sampled frames
(``Settings.body_fps``) in a crop around each track's face, so each body is tied to a face track and cost grows
with people x sampled frames, not with pixels. Head nods and shakes come from the tracks' own head poses at the
full face sampling rate.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from tools.body.cues import (
    LEFT_WRIST,
    RIGHT_WRIST,
    PostureReference,
    cue_intervals,
    frame_cues,
    shoulder_width,
    smoothed_rows,
)
from tools.body.landmarks import BodyPoints, get_body_landmarker
from tools.body.motion import head_gestures, movement
from tools.body.types import BodyAnalysis, BodyFrame, PersonBody
from tools.errors import MediaError
from tools.faces.pipeline import VideoFaces
from tools.faces.pose import MESH_LEFT_EYE_OUTER as LEFT_EYE_OUTER
from tools.faces.pose import MESH_RIGHT_EYE_OUTER as RIGHT_EYE_OUTER
from tools.faces.types import Face
from tools.media import iter_frames
from tools.settings import Settings, get_settings

HAND_REACH = 0.6  # a hand belongs to the person whose wrist is within this many of their shoulder widths
SAME_HAND_PX = 12.0  # hands from two crops whose wrists are this close are one hand
MIN_VIDEO_SAMPLES = 2  # a cue must show on this many body samples in a row (bridging one miss) in a video


def body_step(video_fps: float, body_fps: float) -> int:
    """Read the body on every ``body_step``-th face frame."""
    return max(1, round(video_fps / body_fps)) if video_fps > 0 else 1


def read_body_language(faces: VideoFaces, settings: Settings | None = None) -> BodyAnalysis:
    """Body cues of every track in ``faces`` (the face pipeline's result for one image or video)."""
    settings = settings or get_settings()
    started = time.perf_counter()
    media = faces.media
    if media.kind == "audio":
        raise MediaError(f"{media.path}: an audio-only file shows no body")
    video = media.kind == "video"
    step = body_step(faces.sample_fps, settings.body_fps) if video else 1
    by_frame: dict[int, list[Face]] = defaultdict(list)
    for track in faces.tracks:
        for face in track.faces:
            index = int(face.frame_index or 0)
            if index % step == 0:
                by_frame[index].append(face)
    frames_of: dict[int, list[BodyFrame]] = defaultdict(list)
    if by_frame:
        landmarker = get_body_landmarker()
        last = max(by_frame)
        for frame in iter_frames(media.path, faces.sample_fps if video else None, settings=settings):
            here = by_frame.get(frame.index, [])
            bodies = assign_hands([landmarker.body_of(frame.image, face.box) for face in here])
            for face, points in zip(here, bodies, strict=True):
                frames_of[int(face.track_id or 0)].append(
                    BodyFrame(
                        track_id=int(face.track_id or 0),
                        frame_index=frame.index,
                        time_s=float(face.time_s or frame.time_s),
                        face_box=face.box,
                        pose=points.pose,
                        hands=points.hands,
                        yaw_deg=face.pose.yaw_deg if face.pose else None,
                        pitch_deg=face.pose.pitch_deg if face.pose else None,
                        face_scale=_eye_distance(face),
                    )
                )
            if frame.index >= last:
                break
    people = []
    for track in faces.tracks:
        frames = frames_of.get(track.track_id, [])
        people.append(_person(track.track_id, frames, video))
        if video:
            people[-1].cues = sorted(people[-1].cues + head_gestures(track), key=lambda c: (c.start_s, c.kind))
    body_fps = faces.sample_fps / step if video else 0.0
    return BodyAnalysis(str(Path(media.path)), media.kind, people, body_fps, time.perf_counter() - started)


def assign_hands(bodies: list[BodyPoints]) -> list[BodyPoints]:
    """Each hand found in any person's crop given to the one person whose own pose wrist is nearest to it (in
    their shoulder widths, within ``HAND_REACH``): crops of people side by side overlap, and a neighbour's hand
    is not yours. A hand near nobody's wrist stays with the crop it was found in; one hand seen from two crops
    is kept once."""
    if len(bodies) < 2:
        return bodies
    found: list[tuple[int, np.ndarray]] = []
    for owner, body in enumerate(bodies):
        for hand in body.hands:
            if not any(float(np.linalg.norm(hand[0] - other[0])) < SAME_HAND_PX for _, other in found):
                found.append((owner, hand))
    hands: list[list[np.ndarray]] = [[] for _ in bodies]
    for owner, hand in found:
        reach = [(_wrist_reach(body.pose, hand), index) for index, body in enumerate(bodies) if body.pose is not None]
        near = [item for item in reach if item[0] <= HAND_REACH]
        hands[min(near)[1] if near else owner].append(hand)
    return [BodyPoints(body.pose, mine) for body, mine in zip(bodies, hands, strict=True)]


def _wrist_reach(pose: np.ndarray, hand: np.ndarray) -> float:
    width = shoulder_width(pose)
    wrists = [pose[i, :2] for i in (LEFT_WRIST, RIGHT_WRIST) if pose[i, 2] >= 0.3]
    if width is None or not wrists:
        return float("inf")
    return min(float(np.linalg.norm(hand[0] - wrist)) for wrist in wrists) / width


def _eye_distance(face: Face) -> float | None:
    if face.mesh is None:
        return None
    distance = float(np.linalg.norm(face.mesh[RIGHT_EYE_OUTER, :2] - face.mesh[LEFT_EYE_OUTER, :2]))
    return distance if distance > 1.0 else None


def _person(track_id: int, frames: list[BodyFrame], video: bool) -> PersonBody:
    person = PersonBody(track_id, frames)
    if not frames or person.body_seen == 0:
        person.note = "no body found below this face (out of frame, occluded, or too small)"
        return person
    rows = smoothed_rows(frames) if video else [None] * len(frames)
    reference = PostureReference.of(rows) if video else None
    per_frame = [frame_cues(frame, row, reference) for frame, row in zip(frames, rows, strict=True)]
    person.cues = cue_intervals(per_frame, MIN_VIDEO_SAMPLES if video else 1)
    if video:
        person.movement, fidgets = movement(frames)
        person.cues = sorted(person.cues + fidgets, key=lambda c: (c.start_s, c.kind))
    if reference is None:
        person.note = "posture (lean, slump, raised shoulders) needs a video with this body seen on 5+ frames"
    return person
