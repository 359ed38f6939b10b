"""Spotting results: one ``ExpressionInterval`` per facial movement found, and the whole file's ``SpottingResult``.

Frames are numbered from 0 in the order they were sampled (at ``SpottingResult.fps``); ``onset_frame`` and
``offset_frame`` are inclusive, so an interval covers ``offset_frame - onset_frame + 1`` frames. The emotion label
and AUs of an interval are read from its apex frame: geometric estimates from the mesh, not a trained classifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

IntervalKind = Literal["micro", "macro"]
# MEGC and CAS(ME)^2 call a movement micro when it lasts at most half a second.
MICRO_MAX_S = 0.5


def kind_for_duration(duration_s: float, micro_max_s: float = MICRO_MAX_S) -> IntervalKind:
    """``micro`` for movements of at most ``micro_max_s`` seconds, ``macro`` otherwise."""
    return "micro" if duration_s <= micro_max_s + 1e-9 else "macro"


@dataclass(frozen=True)
class ExpressionInterval:
    """One spotted expression of one person.

    ``score`` is the apex's motion relative to the region's threshold (1.0 = just at threshold). ``regions`` are
    the face regions that moved past their threshold, strongest first. ``label`` is the emotion the apex's
    AU estimates suggest (``label_source`` says how it was read), ``action_units`` the AU estimates that moved,
    as "AU12 lip corner puller 2.1". ``physiology`` holds per-interval signal features when signals were given;
    ``arousal`` is the autonomic-arousal heuristic over them (0-1, ``tools.spotting.physio.arousal``) and
    ``fused_score`` the face score weighted by it: the face and the body as two modalities of one spotting score.
    """

    track_id: int
    onset_frame: int
    apex_frame: int
    offset_frame: int
    onset_s: float
    apex_s: float
    offset_s: float
    kind: IntervalKind
    score: float
    regions: tuple[str, ...] = ()
    label: str | None = None
    label_score: float = 0.0
    label_source: str = "au-prototypes (geometric estimate)"
    action_units: tuple[str, ...] = ()
    physiology: dict[str, float] = field(default_factory=dict)
    apex_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    arousal: float | None = None
    fused_score: float | None = None

    @property
    def frames(self) -> int:
        return self.offset_frame - self.onset_frame + 1

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "kind": self.kind,
            "onset_frame": self.onset_frame,
            "apex_frame": self.apex_frame,
            "offset_frame": self.offset_frame,
            "onset_s": round(self.onset_s, 3),
            "apex_s": round(self.apex_s, 3),
            "offset_s": round(self.offset_s, 3),
            "duration_s": round(self.duration_s, 3),
            "score": round(self.score, 3),
            "regions": list(self.regions),
            "label": self.label,
            "label_score": round(self.label_score, 3),
            "label_source": self.label_source,
            "action_units": list(self.action_units),
            "physiology": {k: round(v, 4) for k, v in self.physiology.items()},
            "arousal": self.arousal,
            "fused_score": None if self.fused_score is None else round(self.fused_score, 3),
            "apex_box": list(self.apex_box),
        }


@dataclass(frozen=True)
class TrackSpan:
    """When a person was meshed: first and last sampled frame, and how many frames had a mesh."""

    track_id: int
    first_frame: int
    last_frame: int
    frames: int
    spotted: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "frames": self.frames,
            "spotted": self.spotted,
            "note": self.note,
        }


@dataclass
class SpottingResult:
    """Every interval of every person in one video, with what was processed and how long it took."""

    path: str
    fps: float
    frames: int
    duration_s: float
    method: str
    intervals: list[ExpressionInterval] = field(default_factory=list)
    tracks: list[TrackSpan] = field(default_factory=list)
    processing_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    # (time_s, score) per person, ten a second, when asked for (plots); not part of ``to_dict``.
    traces: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    # (frame, feature vector) per person when asked for (SpottingNet training data); not part of ``to_dict``.
    features: dict[int, list[tuple[int, Any]]] = field(default_factory=dict)

    def of_kind(self, kind: IntervalKind) -> list[ExpressionInterval]:
        return [i for i in self.intervals if i.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "fps": self.fps,
            "frames": self.frames,
            "duration_s": round(self.duration_s, 3),
            "method": self.method,
            "processing_s": round(self.processing_s, 3),
            "real_time_factor": round(self.duration_s / self.processing_s, 2) if self.processing_s > 0 else None,
            "micro": len(self.of_kind("micro")),
            "macro": len(self.of_kind("macro")),
            "intervals": [i.to_dict() for i in self.intervals],
            "tracks": [t.to_dict() for t in self.tracks],
            "notes": list(self.notes),
        }
