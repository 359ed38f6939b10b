"""The shared face result types: one ``Face`` that many backends fill in, one ``Track`` per person over time.

Arrays use image pixel coordinates (x right, y down) of the frame the face was found in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels, ``x0 <= x1`` and ``y0 <= y1``."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0 when disjoint)."""
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clipped(self, width: int, height: int) -> Box:
        """This box limited to an image of ``width`` x ``height`` pixels."""
        return Box(
            min(max(self.x0, 0.0), float(width)),
            min(max(self.y0, 0.0), float(height)),
            min(max(self.x1, 0.0), float(width)),
            min(max(self.y1, 0.0), float(height)),
        )

    def expanded(self, factor: float) -> Box:
        """The box scaled by ``factor`` about its center."""
        cx, cy = self.center
        hw, hh = self.width * factor / 2.0, self.height * factor / 2.0
        return Box(cx - hw, cy - hh, cx + hw, cy + hh)

    def to_list(self) -> list[float]:
        return [round(self.x0, 2), round(self.y0, 2), round(self.x1, 2), round(self.y1, 2)]


@dataclass(frozen=True)
class HeadPose:
    """Head rotation in degrees: yaw (left/right, + = subject's left), pitch (+ = up), roll (+ = clockwise)."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def to_dict(self) -> dict[str, float]:
        return {
            "yaw_deg": round(self.yaw_deg, 2),
            "pitch_deg": round(self.pitch_deg, 2),
            "roll_deg": round(self.roll_deg, 2),
        }


def _array_to_list(array: np.ndarray | None, decimals: int = 2) -> list[Any] | None:
    return None if array is None else np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


@dataclass
class Face:
    """One face in one image or frame, filled in step by step by detectors, landmarkers, pose and embedders.

    ``landmarks5`` is (5, 2): right eye, left eye, nose tip, right mouth corner, left mouth corner (subject's side).
    ``landmarks68`` is (68, 2) in the iBUG 300-W order. ``mesh`` is (478, 3) mediapipe points, x/y in pixels and z
    in pixels relative to the face's depth center. ``embedding`` is an L2-normalised float32 vector from the backend
    named in ``embedder``.
    """

    box: Box
    score: float
    detector: str = ""
    landmarks5: np.ndarray | None = None
    landmarks68: np.ndarray | None = None
    mesh: np.ndarray | None = None
    pose: HeadPose | None = None
    embedding: np.ndarray | None = None
    embedder: str = ""
    track_id: int | None = None
    time_s: float | None = None
    frame_index: int | None = None
    identity: str | None = None
    identity_score: float | None = None

    def to_dict(self, with_points: bool = False) -> dict[str, Any]:
        """A JSON-ready view; large arrays only when ``with_points`` is set."""
        out: dict[str, Any] = {
            "box": self.box.to_list(),
            "score": round(float(self.score), 4),
            "detector": self.detector,
            "pose": self.pose.to_dict() if self.pose else None,
            "track_id": self.track_id,
            "time_s": None if self.time_s is None else round(self.time_s, 3),
            "frame_index": self.frame_index,
            "identity": self.identity,
            "identity_score": None if self.identity_score is None else round(float(self.identity_score), 4),
            "embedder": self.embedder or None,
            "has_landmarks5": self.landmarks5 is not None,
            "has_landmarks68": self.landmarks68 is not None,
            "has_mesh": self.mesh is not None,
            "has_embedding": self.embedding is not None,
        }
        if with_points:
            out["landmarks5"] = _array_to_list(self.landmarks5)
            out["landmarks68"] = _array_to_list(self.landmarks68)
            out["mesh"] = _array_to_list(self.mesh)
            out["embedding"] = _array_to_list(self.embedding, 6)
        return out


@dataclass
class Track:
    """One person followed across the frames of a video (or the single face of an image).

    ``faces`` holds one ``Face`` per sampled frame in which the person was seen, in time order. ``embedding`` is
    the L2-normalised mean of the embeddings computed for this track (computed sparsely, not every frame).
    """

    track_id: int
    faces: list[Face] = field(default_factory=list)
    embedding: np.ndarray | None = None
    embedding_count: int = 0
    identity: str | None = None
    identity_score: float | None = None

    @property
    def start_s(self) -> float:
        return float(self.faces[0].time_s or 0.0) if self.faces else 0.0

    @property
    def end_s(self) -> float:
        return float(self.faces[-1].time_s or 0.0) if self.faces else 0.0

    @property
    def last(self) -> Face:
        return self.faces[-1]

    def add_embedding(self, embedding: np.ndarray) -> None:
        """Fold one more L2-normalised embedding into the running mean."""
        vec = np.asarray(embedding, dtype=np.float32)
        mean = vec if self.embedding is None else self.embedding * self.embedding_count + vec
        self.embedding_count += 1
        norm = float(np.linalg.norm(mean))
        self.embedding = (mean / norm).astype(np.float32) if norm > 0 else mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "frames": len(self.faces),
            "embeddings_computed": self.embedding_count,
            "identity": self.identity,
            "identity_score": None if self.identity_score is None else round(float(self.identity_score), 4),
        }
