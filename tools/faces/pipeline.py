"""The face pipeline: detection, 478-point mesh, 5 landmarks, head pose and embeddings, for images and videos.

Videos are streamed frame by frame; embeddings are computed per track (when a track starts and then every
``Settings.embed_refresh_s``), not per frame, since identity does not change between frames and the embedder
is the most expensive step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools.errors import MediaError
from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.faces.detectors import get_detector, get_landmarker
from tools.faces.pose import estimate_pose
from tools.faces.protocols import Embedder
from tools.faces.tracking import FaceTracker
from tools.faces.types import Box, Face, Track
from tools.media import MediaInfo, iter_frames, load_image, probe_media
from tools.settings import Settings, get_settings

ProgressCallback = Callable[[float, float], None]
"""Called with (seconds done, seconds total) while a video is analysed."""


@dataclass(frozen=True)
class FaceOptions:
    """What to compute for each face. Turning off what a question does not need saves time."""

    mesh: bool = True
    landmarks68: bool = False
    pose: bool = True
    embeddings: bool = True
    detector: str | None = None
    embedder: str | None = None


@dataclass
class VideoFaces:
    """Faces of a whole media file: ``tracks`` (one per person) and what was processed."""

    media: MediaInfo
    tracks: list[Track] = field(default_factory=list)
    frames_analysed: int = 0
    sample_fps: float = 0.0
    seconds: float = 0.0
    embedder: str = ""

    @property
    def faces(self) -> list[Face]:
        return sorted((f for t in self.tracks for f in t.faces), key=lambda f: (f.frame_index or 0, f.box.x0))

    def to_dict(self, with_faces: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "media": self.media.to_dict(),
            "frames_analysed": self.frames_analysed,
            "sample_fps": self.sample_fps,
            "processing_s": round(self.seconds, 3),
            "embedder": self.embedder,
            "people": len(self.tracks),
            "tracks": [t.to_dict() for t in self.tracks],
        }
        if with_faces:
            out["faces"] = [f.to_dict() for f in self.faces]
        return out


def get_default_embedder(name: str | None = None) -> Embedder:
    """The identity embedder ``name`` (default ``Settings.embedder``)."""
    from tools.faces.embedders import get_embedder

    return get_embedder(name)


# A weak detection that the mesh model also rejects is dropped: measured on the astronaut rotated by 15 degrees,
# BlazeFace full-range scored a mission patch 0.64 and the mesh found no face in it; real faces in our photos
# score 0.84-0.97.
CONFIRMED_SCORE = 0.75
# Below this many sampled frames, every detection counts: a short clip may show a person only once.
MIN_FRAMES_FOR_FLICKER_FILTER = 10


def analyze_image(image_rgb: np.ndarray, options: FaceOptions | None = None) -> list[Face]:
    """Every face in one RGB uint8 image (H, W, 3), sorted left to right, filled as ``options`` asks."""
    options = options or FaceOptions()
    faces = _detect(image_rgb, options)
    if options.embeddings and faces:
        embedder = get_default_embedder(options.embedder)
        for face, vector in zip(faces, embedder.embed(image_rgb, faces), strict=True):
            face.embedding = vector
            face.embedder = embedder.name
    for number, face in enumerate(faces, start=1):
        face.track_id = number
        face.time_s = 0.0
        face.frame_index = 0
    return faces


def analyze_file(
    path: str | Path,
    options: FaceOptions | None = None,
    fps: float | None = None,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
) -> VideoFaces:
    """Faces of an image or a video file. An image gives one single-frame track per face."""
    settings = settings or get_settings()
    info = probe_media(path, settings)
    if info.kind == "audio":
        raise MediaError(f"{info.path}: an audio-only file has no faces to analyse")
    if info.kind == "image":
        started = time.perf_counter()
        faces = analyze_image(load_image(info.path, settings), options)
        tracks = []
        for face in faces:
            track = Track(track_id=face.track_id or 0, faces=[face])
            if face.embedding is not None:
                track.add_embedding(face.embedding)
            tracks.append(track)
        return VideoFaces(info, tracks, 1, 0.0, time.perf_counter() - started, faces[0].embedder if faces else "")
    return analyze_video(info, options, fps, progress, settings)


def analyze_video(
    media: MediaInfo | str | Path,
    options: FaceOptions | None = None,
    fps: float | None = None,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
) -> VideoFaces:
    """Track every person through a video sampled at ``fps`` (default ``Settings.video_fps``).

    Memory stays flat in video length apart from the per-face results kept on the tracks.
    """
    settings = settings or get_settings()
    options = options or FaceOptions()
    info = media if isinstance(media, MediaInfo) else probe_media(media, settings)
    sample_fps = fps or settings.video_fps
    embedder = get_default_embedder(options.embedder) if options.embeddings else None
    tracker = FaceTracker(match_threshold=embedder.match_threshold if embedder else 1.1)
    started = time.perf_counter()
    frames = 0
    last_full_scan_s = -1e9
    for frame in iter_frames(info.path, sample_fps, settings=settings):
        full_scan = frame.time_s - last_full_scan_s >= settings.full_scan_interval_s
        if full_scan:
            last_full_scan_s = frame.time_s
        faces = _detect(frame.image, options, tracker.expected_boxes(frame.time_s), full_scan)
        for face in faces:
            face.time_s, face.frame_index = frame.time_s, frame.index
        tracker.update(faces, frame.time_s)
        if embedder is not None:
            due = [f for f in faces if tracker.needs_embedding(f, settings.embed_refresh_s)]
            if due:
                for face, vector in zip(due, embedder.embed(frame.image, due), strict=True):
                    face.embedder = embedder.name
                    tracker.add_embedding(face, vector)
        frames += 1
        if progress is not None:
            progress(frame.time_s, info.duration_s)
    tracks = tracker.finish(min_frames=settings.min_track_frames if frames >= MIN_FRAMES_FOR_FLICKER_FILTER else 1)
    return VideoFaces(
        info, tracks, frames, sample_fps, time.perf_counter() - started, embedder.name if embedder else ""
    )


def _detect(
    image_rgb: np.ndarray, options: FaceOptions, expected: Sequence[Box] = (), full_scan: bool = True
) -> list[Face]:
    """Detect, add geometry, and drop weak detections that the mesh does not confirm.

    Detectors that can look near ``expected`` boxes (mediapipe) scan the whole frame in tiles only when
    ``full_scan`` is set; others always run in full.
    """
    detector = get_detector(options.detector)
    if isinstance(detector, MediapipeDetector) and detector.tiles:
        faces = detector.detect_near(image_rgb, list(expected), tiles=full_scan)
    elif isinstance(detector, EnsembleDetector):
        # The cheap members on every frame, all of them on full scans (MIEN_DETECTOR=ensemble).
        faces = detector.detect(image_rgb, full_scan=full_scan)
    else:
        faces = detector.detect(image_rgb)
    _add_geometry(image_rgb, faces, options)
    if options.mesh:
        faces = [f for f in faces if f.mesh is not None or f.score >= CONFIRMED_SCORE]
    return faces


def _add_geometry(image_rgb: np.ndarray, faces: Sequence[Face], options: FaceOptions) -> None:
    if not faces:
        return
    if options.mesh:
        get_landmarker("mediapipe-mesh").add_landmarks(image_rgb, faces)
    if options.landmarks68:
        get_landmarker("dlib-68").add_landmarks(image_rgb, faces)
    if options.pose:
        height, width = image_rgb.shape[:2]
        for face in faces:
            face.pose = estimate_pose(face, width, height)
