"""Following faces across video frames: one ``Track`` per person.

Association per frame is a Hungarian assignment on box overlap with each track's constant-velocity prediction
(so two people crossing keep their tracks), and a face that overlaps no live track is matched by embedding to a
recently lost track before a new track is opened. After the video, tracks whose mean embeddings are the same
person and never overlap in time are merged (a person who left the frame and came back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from tools.faces.types import Box, Face, Track

MIN_IOU = 0.2


@dataclass
class _TrackState:
    track: Track
    last_time_s: float
    velocity: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    last_embedded_s: float = -1e9

    def predicted_box(self, time_s: float) -> Box:
        box = self.track.last.box
        dt = time_s - self.last_time_s
        vx0, vy0, vx1, vy1 = self.velocity
        return Box(box.x0 + vx0 * dt, box.y0 + vy0 * dt, box.x1 + vx1 * dt, box.y1 + vy1 * dt)


@dataclass
class FaceTracker:
    """Assigns ``track_id`` to faces frame by frame. Call ``update`` per frame, then ``finish``.

    ``max_gap_s``: how long a track may go unseen and still be continued by overlap. ``match_threshold``: the
    embedder's cosine similarity for the same person, used to re-find lost tracks and to merge tracks.
    """

    match_threshold: float
    max_gap_s: float = 1.5
    reid_window_s: float = 30.0
    _live: list[_TrackState] = field(default_factory=list)
    _all: list[Track] = field(default_factory=list)
    _next_id: int = 1

    def update(self, faces: list[Face], time_s: float) -> list[Face]:
        """Set ``track_id`` on each face of the frame at ``time_s`` (in place) and return the faces.

        Which faces need an embedding is the caller's choice, through ``needs_embedding``.
        """
        candidates = [s for s in self._live if time_s - s.last_time_s <= self.max_gap_s]
        matched_faces: set[int] = set()
        if candidates and faces:
            cost = np.ones((len(faces), len(candidates)))
            for i, face in enumerate(faces):
                for j, state in enumerate(candidates):
                    cost[i, j] = 1.0 - face.box.iou(state.predicted_box(time_s))
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                if 1.0 - cost[i, j] >= MIN_IOU:
                    self._extend(candidates[j], faces[i], time_s)
                    matched_faces.add(i)
        for i, face in enumerate(faces):
            if i not in matched_faces:
                self._open(face, time_s)
        return faces

    def expected_boxes(self, time_s: float) -> list[Box]:
        """Where the live tracks' faces should be at ``time_s`` (constant-velocity prediction)."""
        return [s.predicted_box(time_s) for s in self._live if time_s - s.last_time_s <= self.max_gap_s]

    def needs_embedding(self, face: Face, refresh_s: float) -> bool:
        """Whether ``face`` (already tracked) should get an embedding now: new tracks, then every ``refresh_s``."""
        state = self._state_of(face.track_id)
        return state is not None and (face.time_s or 0.0) - state.last_embedded_s >= refresh_s

    def add_embedding(self, face: Face, embedding: np.ndarray) -> None:
        """Record an embedding computed for ``face``; a fresh track is re-linked to a lost one if they match."""
        face.embedding = embedding
        state = self._state_of(face.track_id)
        if state is None:
            return
        if state.track.embedding_count == 0 and len(state.track.faces) == 1:
            lost = self._lost_match(state, embedding, face.time_s or 0.0)
            if lost is not None:
                self._absorb(lost, state)
                state = lost
        state.track.add_embedding(embedding)
        state.last_embedded_s = face.time_s or 0.0

    def finish(self, min_frames: int = 1) -> list[Track]:
        """All tracks, with same-person tracks that never overlap in time merged, renumbered from 1 by start.

        Tracks seen in fewer than ``min_frames`` frames after merging are dropped: in a video they are flickers
        (a half-occluded face during a crossing, a false detection), not people.
        """
        tracks = [t for t in self._all if t.faces]
        merged = [t for t in _merge_same_person(tracks, self.match_threshold) if len(t.faces) >= min_frames]
        merged.sort(key=lambda t: (t.start_s, t.faces[0].box.x0))
        for new_id, track in enumerate(merged, start=1):
            track.track_id = new_id
            for face in track.faces:
                face.track_id = new_id
        return merged

    def _open(self, face: Face, time_s: float) -> None:
        track = Track(track_id=self._next_id, faces=[face])
        self._next_id += 1
        face.track_id = track.track_id
        self._live.append(_TrackState(track, time_s))
        self._all.append(track)

    @staticmethod
    def _extend(state: _TrackState, face: Face, time_s: float) -> None:
        previous = state.track.last.box
        dt = time_s - state.last_time_s
        if dt > 0:
            b = face.box
            new_v = (
                (b.x0 - previous.x0) / dt,
                (b.y0 - previous.y0) / dt,
                (b.x1 - previous.x1) / dt,
                (b.y1 - previous.y1) / dt,
            )
            state.velocity = tuple(0.5 * n + 0.5 * o for n, o in zip(new_v, state.velocity, strict=True))  # type: ignore[assignment]
        face.track_id = state.track.track_id
        state.track.faces.append(face)
        state.last_time_s = time_s

    def _state_of(self, track_id: int | None) -> _TrackState | None:
        return next((s for s in self._live if s.track.track_id == track_id), None)

    def _lost_match(self, fresh: _TrackState, embedding: np.ndarray, time_s: float) -> _TrackState | None:
        best, best_score = None, self.match_threshold
        for state in self._live:
            if state is fresh or state.track.embedding is None:
                continue
            if state.last_time_s >= time_s or time_s - state.last_time_s > self.reid_window_s:
                continue  # still visible in this frame, or lost too long ago
            score = float(np.dot(state.track.embedding, embedding))
            if score >= best_score:
                best, best_score = state, score
        return best

    def _absorb(self, target: _TrackState, fresh: _TrackState) -> None:
        for face in fresh.track.faces:
            face.track_id = target.track.track_id
            target.track.faces.append(face)
        target.last_time_s = fresh.last_time_s
        target.velocity = (0.0, 0.0, 0.0, 0.0)
        self._live.remove(fresh)
        self._all.remove(fresh.track)


def _merge_same_person(tracks: list[Track], threshold: float) -> list[Track]:
    tracks = sorted(tracks, key=lambda t: t.start_s)
    merged: list[Track] = []
    for track in tracks:
        target = None
        if track.embedding is not None:
            for other in merged:
                if other.embedding is None or _overlap_in_time(other, track):
                    continue
                if float(np.dot(other.embedding, track.embedding)) >= threshold:
                    target = other
                    break
        if target is None:
            merged.append(track)
            continue
        target.faces = sorted(target.faces + track.faces, key=lambda f: f.time_s or 0.0)
        assert track.embedding is not None
        for _ in range(max(track.embedding_count, 1)):
            target.add_embedding(track.embedding)
    return merged


def _overlap_in_time(a: Track, b: Track) -> bool:
    times_a = {f.frame_index for f in a.faces}
    return any(f.frame_index in times_a for f in b.faces)
