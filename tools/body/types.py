"""Body-language result types: the body landmarks of one person on one frame, the cues read from them over time.

Every cue is a geometric heuristic over mediapipe's pose (33 points) and hand (21 points per hand) landmarks,
never a trained body-language classifier; ``BodyAnalysis.source`` says so and every cue carries the frames that
show it, so that a reader can look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tools.faces.types import Box

CueKind = Literal[
    "lean_in",
    "lean_away",
    "slumped",
    "shoulders_raised",
    "arms_crossed",
    "hand_to_face",
    "hand_to_neck",
    "object_manipulation",
    "self_protection",
    "fidgeting",
    "nod",
    "head_shake",
]

CUE_KINDS: tuple[CueKind, ...] = (
    "lean_in",
    "lean_away",
    "slumped",
    "shoulders_raised",
    "arms_crossed",
    "hand_to_face",
    "hand_to_neck",
    "object_manipulation",
    "self_protection",
    "fidgeting",
    "nod",
    "head_shake",
)

CUE_WORDS: dict[CueKind, str] = {
    "lean_in": "leans in (towards the camera)",
    "lean_away": "leans away (from the camera)",
    "slumped": "slumped posture",
    "shoulders_raised": "shoulders raised",
    "arms_crossed": "arms crossed",
    "hand_to_face": "hand touches the face",
    "hand_to_neck": "hand touches the neck",
    "object_manipulation": "hand handles an object",
    "self_protection": "self-protective gesture",
    "fidgeting": "fidgeting",
    "nod": "nods",
    "head_shake": "shakes the head",
}


@dataclass
class BodyFrame:
    """One person's body on one sampled frame, in frame pixels.

    ``pose`` is (33, 3) mediapipe pose points (x, y in pixels, visibility in [0, 1]) or None when the pose model
    found no body tied to this face; ``hands`` are (21, 2) pixel arrays of the hands assigned to this person.
    ``face_box`` is the tracked face the body belongs to; ``yaw_deg``/``pitch_deg`` its head pose from the mesh;
    ``face_scale`` its inter-ocular distance in pixels from the mesh (the steadiest size measure there is).
    """

    track_id: int
    frame_index: int
    time_s: float
    face_box: Box
    pose: np.ndarray | None = None
    hands: list[np.ndarray] = field(default_factory=list)
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    face_scale: float | None = None


@dataclass(frozen=True)
class BodyCue:
    """One cue over one stretch of time: ``frames`` are the sampled frame indices that show it.

    ``strength`` is the cue's own measure at its peak (e.g. the lean's scale change, the share of the face covered
    by the hand, the nod's amplitude in degrees); ``detail`` says in words what was measured.
    """

    kind: CueKind
    start_s: float
    end_s: float
    frames: tuple[int, ...]
    strength: float
    detail: str

    @property
    def words(self) -> str:
        return CUE_WORDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cue": self.kind,
            "from_s": round(self.start_s, 2),
            "to_s": round(self.end_s, 2),
            "frames": list(self.frames),
            "strength": round(float(self.strength), 3),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Movement:
    """How much a person's hands move: ``energy`` in shoulder widths per second (median over consecutive samples
    on which a hand is seen), and the share of those steps below the stillness threshold; None with no hand seen."""

    energy: float | None
    still_fraction: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "energy_shoulders_per_s": None if self.energy is None else round(self.energy, 3),
            "still_fraction": None if self.still_fraction is None else round(self.still_fraction, 3),
        }


@dataclass
class PersonBody:
    """The body language of one tracked person (``track_id`` is the face track's number)."""

    track_id: int
    frames: list[BodyFrame] = field(default_factory=list)
    cues: list[BodyCue] = field(default_factory=list)
    movement: Movement = field(default_factory=lambda: Movement(None, None))
    note: str | None = None

    @property
    def body_seen(self) -> int:
        """Sampled frames on which a body was tied to this person's face."""
        return sum(1 for frame in self.frames if frame.pose is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "frames_sampled": len(self.frames),
            "body_seen": self.body_seen,
            "cues": [cue.to_dict() for cue in self.cues],
            "movement": self.movement.to_dict(),
            "note": self.note,
        }


@dataclass
class BodyAnalysis:
    """Body language of every tracked person in one media file."""

    media: str
    kind: str
    people: list[PersonBody]
    sample_fps: float
    seconds: float
    source: str = "mediapipe 0.10.21 pose + hand landmarks; cues are geometric heuristics, not a trained classifier"

    def person(self, track_id: int) -> PersonBody | None:
        return next((p for p in self.people if p.track_id == track_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "media": self.media,
            "kind": self.kind,
            "sample_fps": self.sample_fps,
            "processing_s": round(self.seconds, 3),
            "source": self.source,
            "people": [person.to_dict() for person in self.people],
        }
