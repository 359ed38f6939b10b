"""Which boxes to hide in each frame: detections on every frame, tracked by overlap, gaps filled from neighbours.

A detector run on every frame still misses a face now and then (motion, a turned head, a threshold crossed by
noise). A missed frame would show the face in the clear, so detections are linked into tracks by box overlap
(with a constant-velocity prediction) and every frame of a short gap gets a box linearly interpolated between the
detections on either side; a track's first and last detections are also held a few frames before and after, for
faces the detector picks up late or drops early at the edges of a shot.

This needs to see a few frames ahead, so ``FrameCoverage`` keeps a look-ahead of ``lookahead_frames`` frames:
frame ``i`` is final once frame ``i + lookahead_frames`` has been pushed. It stores boxes only (a few per track),
never frames, and forgets tracks that have ended, so its memory does not grow with the video's length.
``tools.faces.tracking.FaceTracker`` keeps every face of the video for identity work, which is why it is not used.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

from tools.errors import ConfigError
from tools.faces.types import Box

BoxSource = Literal["detected", "interpolated", "held"]
VELOCITY_SPAN = 5  # detections the velocity is measured over


@dataclass(frozen=True)
class CoverBox:
    """One region to hide in one frame: the person's ``track_id``, the box, and how the box was obtained."""

    track_id: int
    box: Box
    source: BoxSource

    def to_dict(self) -> dict[str, Any]:
        return {"track_id": self.track_id, "box": self.box.to_list(), "source": self.source}


@dataclass(frozen=True)
class FrameBoxes:
    """The final set of regions to hide in frame ``frame_index``."""

    frame_index: int
    boxes: tuple[CoverBox, ...]


@dataclass
class _Track:
    track_id: int
    detections: deque[tuple[int, Box]] = field(default_factory=deque)  # (frame index, box), in frame order

    @property
    def last_frame(self) -> int:
        return self.detections[-1][0]

    def predicted_box(self, frame_index: int) -> Box:
        """The last box, moved on at the centre's mean velocity over the recent detections (constant velocity).

        The velocity spans several frames and the size is the last one's, so a box that shrinks while the face
        goes behind someone does not throw the prediction off.
        """
        last_frame, last = self.detections[-1]
        first_frame, first = self.detections[max(0, len(self.detections) - VELOCITY_SPAN)]
        if last_frame == first_frame:
            return last
        (fx, fy), (lx, ly) = first.center, last.center
        steps = (frame_index - last_frame) / (last_frame - first_frame)
        dx, dy = (lx - fx) * steps, (ly - fy) * steps
        return Box(last.x0 + dx, last.y0 + dy, last.x1 + dx, last.y1 + dy)


def _lerp(a: Box, b: Box, t: float) -> Box:
    return Box(a.x0 + (b.x0 - a.x0) * t, a.y0 + (b.y0 - a.y0) * t, a.x1 + (b.x1 - a.x1) * t, a.y1 + (b.y1 - a.y1) * t)


class FrameCoverage:
    """Turns per-frame detections into per-frame regions to hide, gaps filled. Push every frame, in order.

    ``max_gap_frames``: a track missed for up to this many consecutive frames is continued, and the missed frames
    get interpolated boxes. ``hold_frames``: frames before a track's first and after its last detection that
    still get its box. ``min_iou``: overlap with a track's predicted box needed to continue it.
    """

    def __init__(self, max_gap_frames: int = 8, hold_frames: int = 3, min_iou: float = 0.2) -> None:
        if max_gap_frames < 0 or hold_frames < 0 or not 0.0 < min_iou <= 1.0:
            raise ConfigError("max_gap_frames and hold_frames must be >= 0 and min_iou in (0, 1]")
        self.max_gap_frames = max_gap_frames
        self.hold_frames = hold_frames
        self.min_iou = min_iou
        self.lookahead_frames = max(max_gap_frames + 1, hold_frames)
        self.tracks_opened = 0
        self.boxes_interpolated = 0
        self.boxes_held = 0
        self._tracks: list[_Track] = []
        self._next_frame = 0
        self._next_final = 0

    def push(self, frame_index: int, boxes: list[Box]) -> list[FrameBoxes]:
        """Record the detections of frame ``frame_index`` and return the frames that became final, in order."""
        if frame_index != self._next_frame:
            raise ValueError(f"frames must be pushed in order: expected {self._next_frame}, got {frame_index}")
        self._assign(frame_index, boxes)
        self._next_frame += 1
        return self._emit(upto=frame_index - self.lookahead_frames)

    def finish(self) -> list[FrameBoxes]:
        """The remaining frames, once the last frame has been pushed."""
        return self._emit(upto=self._next_frame - 1)

    def _assign(self, frame_index: int, boxes: list[Box]) -> None:
        live = [t for t in self._tracks if frame_index - t.last_frame <= self.max_gap_frames + 1]
        matched: set[int] = set()
        if live and boxes:
            overlap = np.array([[b.iou(t.predicted_box(frame_index)) for t in live] for b in boxes])
            rows, cols = linear_sum_assignment(-overlap)
            for row, col in zip(rows, cols, strict=True):
                if overlap[row, col] >= self.min_iou:
                    live[col].detections.append((frame_index, boxes[row]))
                    matched.add(row)
        for row, box in enumerate(boxes):
            if row not in matched:
                self.tracks_opened += 1
                self._tracks.append(_Track(self.tracks_opened, deque([(frame_index, box)])))

    def _emit(self, upto: int) -> list[FrameBoxes]:
        out = []
        while self._next_final <= upto:
            out.append(FrameBoxes(self._next_final, tuple(self._boxes_for(self._next_final))))
            self._next_final += 1
            self._forget_before(self._next_final)
        return out

    def _boxes_for(self, frame: int) -> list[CoverBox]:
        out = []
        for track in self._tracks:
            cover = self._cover(track, frame)
            if cover is not None:
                out.append(cover)
        return out

    def _cover(self, track: _Track, frame: int) -> CoverBox | None:
        before = after = None
        for index, box in track.detections:
            if index <= frame:
                before = (index, box)
            else:
                after = (index, box)
                break
        if before is not None and before[0] == frame:
            return CoverBox(track.track_id, before[1], "detected")
        if before is not None and after is not None:
            # Consecutive detections of one track are at most max_gap_frames + 1 apart (see _assign).
            t = (frame - before[0]) / (after[0] - before[0])
            self.boxes_interpolated += 1
            return CoverBox(track.track_id, _lerp(before[1], after[1], t), "interpolated")
        if before is not None and frame - before[0] <= self.hold_frames:
            self.boxes_held += 1
            return CoverBox(track.track_id, before[1], "held")
        if after is not None and before is None and after[0] - frame <= self.hold_frames:
            self.boxes_held += 1
            return CoverBox(track.track_id, after[1], "held")
        return None

    def _forget_before(self, frame: int) -> None:
        """Drop detections no longer needed for frames >= ``frame``, and tracks that can no longer cover any."""
        keep = []
        for track in self._tracks:
            # The newest detection at or before ``frame - 1`` is still needed (interpolation or hold); older ones not.
            while len(track.detections) >= 2 and track.detections[1][0] <= frame - 1:
                track.detections.popleft()
            ended = self._next_frame - track.last_frame > self.max_gap_frames + 1
            if ended and frame - track.last_frame > self.hold_frames:
                continue
            keep.append(track)
        self._tracks = keep
