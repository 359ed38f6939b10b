"""Meshes of every face on every frame of a video, cheaply: mediapipe FaceMesh in tracking mode.

In tracking mode FaceMesh runs its face detector only while it follows fewer faces than ``max_faces`` and
otherwise places each face from the previous frame's landmarks; without the iris model the mesh then costs
about 2 ms a frame here (9 ms with a detector pass and the iris model each frame), which is what makes spotting
every frame of a 30 fps video faster than real time. Faces are tied to person numbers by box overlap with the
previous frame (persons keep their number while they stay in view), keeping only the last box of each: memory does
not grow with the video.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from tools.faces.mediapipe_quiet import solutions
from tools.faces.types import Box

MIN_IOU = 0.2
MAX_GAP_FRAMES = 15


@dataclass(frozen=True)
class TrackedMesh:
    """One face on one frame: its person number, (468, 3) pixel mesh (z in x's pixel scale) and box."""

    track_id: int
    mesh: np.ndarray
    box: Box


@dataclass
class _Live:
    track_id: int
    box: Box
    last_frame: int


@dataclass
class MeshStream:
    """Call ``process(frame_index, image_rgb)`` per frame, in order; it yields that frame's ``TrackedMesh``."""

    max_faces: int = 2
    min_detection: float = 0.5
    _live: list[_Live] = field(default_factory=list)
    _next_id: int = 1
    _mesh: object = None

    def __post_init__(self) -> None:
        self._mesh = solutions().face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=self.max_faces,
            refine_landmarks=False,
            min_detection_confidence=self.min_detection,
            min_tracking_confidence=0.5,
        )

    def close(self) -> None:
        close = getattr(self._mesh, "close", None)
        if callable(close):
            close()

    def process(self, frame_index: int, image_rgb: np.ndarray) -> Iterator[TrackedMesh]:
        height, width = image_rgb.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(image_rgb))  # type: ignore[attr-defined]
        meshes = []
        for landmarks in result.multi_face_landmarks or ():
            points = np.array([(p.x, p.y, p.z) for p in landmarks.landmark], dtype=np.float32)
            points[:, 0] *= width
            points[:, 1] *= height
            points[:, 2] *= width
            meshes.append(points)
        boxes = [Box(float(m[:, 0].min()), float(m[:, 1].min()), float(m[:, 0].max()), float(m[:, 1].max()))
                 for m in meshes]
        ids = self._assign(frame_index, boxes)
        for track_id, mesh, box in zip(ids, meshes, boxes, strict=True):
            yield TrackedMesh(track_id, mesh, box)

    def _assign(self, frame_index: int, boxes: list[Box]) -> list[int]:
        self._live = [s for s in self._live if frame_index - s.last_frame <= MAX_GAP_FRAMES]
        ids = [0] * len(boxes)
        if self._live and boxes:
            cost = np.array([[1.0 - b.iou(s.box) for s in self._live] for b in boxes])
            used = set()
            for i, j in zip(*linear_sum_assignment(cost), strict=True):
                if 1.0 - cost[i, j] >= MIN_IOU:
                    ids[i] = self._live[j].track_id
                    self._live[j].box, self._live[j].last_frame = boxes[i], frame_index
                    used.add(i)
        for i, box in enumerate(boxes):
            if ids[i] == 0:
                ids[i] = self._next_id
                self._live.append(_Live(self._next_id, box, frame_index))
                self._next_id += 1
        return ids
