"""Expression analysis of faces, images and videos: basic-emotion probabilities, AU estimates, per-track dynamics.

``estimate_emotions`` scores faces already found in one image. ``analyze_emotions`` takes a file: for an image,
one single-frame timeline per face; for a video, the face pipeline tracks people (``tools.faces.analyze_video``),
then the frames are streamed a second time at the same rate to crop the tracked faces (the face pipeline keeps no
pixels, so memory stays flat in video length). With the geometric AU backend, each track's AUs are re-referenced
to that person's own most neutral frames.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tools.errors import MediaError
from tools.expression.action_units import (
    GeometricMeasures,
    action_units_from_measures,
    measure_face,
    neutral_baseline,
    unmeasurable_regions,
)
from tools.expression.backends import ActionUnitModel, ExpressionModel, get_au_model, get_expression_model
from tools.expression.dynamics import compute_dynamics
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.types import EmotionAnalysis, EmotionEstimate, ExpressionTimeline
from tools.faces.types import Face
from tools.settings import Settings, get_settings

ProgressCallback = Callable[[float, float], None]
# A per-track neutral baseline needs a few frames; with fewer, the population reference stays.
MIN_BASELINE_FRAMES = 3
# ...and at least one frame the expression model finds this neutral: someone who smiles in every frame has no
# neutral face to compare with, and their smile must not become their baseline.
MIN_NEUTRAL_PROBABILITY = 0.3


def estimate_emotions(
    image_rgb: np.ndarray,
    faces: Sequence[Face],
    model: ExpressionModel | str | None = None,
    au_model: ActionUnitModel | str | None = None,
) -> list[EmotionEstimate]:
    """One ``EmotionEstimate`` per face of an RGB uint8 image (H, W, 3), in the order given.

    A face smaller than the model's ``min_face_px`` is not scored: its estimate has ``probabilities=None`` and a
    ``skipped_reason`` that says so. AUs need ``Face.mesh`` for the geometric backend (None without one).
    """
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise MediaError(f"expected an RGB uint8 image of shape (H, W, 3); got {image.dtype} {image.shape}")
    expression = model if model is not None and not isinstance(model, str) else get_expression_model(model)
    aus = au_model if au_model is not None and not isinstance(au_model, str) else get_au_model(au_model)
    usable = [i for i, f in enumerate(faces) if min(f.box.width, f.box.height) >= expression.min_face_px]
    probabilities: dict[int, np.ndarray] = {}
    action_units: dict[int, object] = {}
    if usable:
        chosen = [faces[i] for i in usable]
        for i, row in zip(usable, expression.predict(image, chosen), strict=True):
            probabilities[i] = row
        for i, units in zip(usable, aus.estimate(image, chosen), strict=True):
            action_units[i] = units
    estimates = []
    for i, face in enumerate(faces):
        reason = None
        if i not in probabilities:
            reason = (
                f"face is {face.box.width:.0f}x{face.box.height:.0f} px, smaller than the {expression.min_face_px} px "
                f"the expression model {expression.name} needs"
            )
        estimates.append(
            EmotionEstimate(
                probabilities=probabilities.get(i),
                model=expression.name,
                track_id=face.track_id,
                time_s=face.time_s,
                frame_index=face.frame_index,
                box=face.box,
                action_units=action_units.get(i),  # type: ignore[arg-type]
                skipped_reason=reason,
            )
        )
    return estimates


def analyze_image_emotions(
    image_rgb: np.ndarray, model: ExpressionModel | str | None = None, au_model: ActionUnitModel | str | None = None
) -> list[EmotionEstimate]:
    """Find the faces of one RGB uint8 image (H, W, 3) and estimate their emotions (left to right)."""
    from tools.faces import FaceOptions, analyze_image

    faces = analyze_image(image_rgb, FaceOptions(embeddings=False))
    return estimate_emotions(image_rgb, faces, model, au_model)


def rereference_track(estimates: Sequence[EmotionEstimate], faces: Sequence[Face]) -> list[EmotionEstimate]:
    """Geometric AUs of one track relative to the track's own neutral baseline (its most neutral frames).

    ``faces`` are the track's faces, one per estimate. Tracks with fewer than ``MIN_BASELINE_FRAMES`` meshed
    frames, tracks in which no frame reaches ``MIN_NEUTRAL_PROBABILITY`` of Neutral, and AUs from other backends
    are returned unchanged (population reference). AUs that a frame could not measure (pose, cover) stay so.
    """
    rows = [
        i
        for i, (e, f) in enumerate(zip(estimates, faces, strict=True))
        if f.mesh is not None and e.action_units is not None and e.action_units.kind == "geometric-estimate"
    ]
    if len(rows) < MIN_BASELINE_FRAMES:
        return list(estimates)
    measures: dict[int, GeometricMeasures] = {i: measure_face(faces[i].mesh) for i in rows}  # type: ignore[arg-type]
    neutral = BASIC_EMOTIONS.index("Neutral")
    scored = [i for i in rows if estimates[i].probabilities is not None]
    if len(scored) >= MIN_BASELINE_FRAMES:
        scores = [float(estimates[i].probabilities[neutral]) for i in scored]  # type: ignore[index]
        if max(scores) < MIN_NEUTRAL_PROBABILITY:
            return list(estimates)
        baseline = neutral_baseline([measures[i] for i in scored], scores)
    else:
        baseline = neutral_baseline([measures[i] for i in rows])
    out = list(estimates)
    for i in rows:
        before = estimates[i].action_units
        assert before is not None
        units = action_units_from_measures(measures[i], baseline, "track-neutral", unmeasurable_regions(before))
        out[i] = dataclasses.replace(estimates[i], action_units=units)
    return out


def analyze_emotions(
    path: str | Path,
    fps: float | None = None,
    model: ExpressionModel | str | None = None,
    au_model: ActionUnitModel | str | None = None,
    smoothing_s: float | None = None,
    embeddings: bool = True,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
) -> EmotionAnalysis:
    """Emotions of every person in an image or video file, one ``ExpressionTimeline`` per track.

    ``fps`` is the video sampling rate (default ``Settings.video_fps``), ``smoothing_s`` the dynamics window
    (default ``Settings.expression_smoothing_s``). ``embeddings`` lets the tracker re-identify people who cross
    or leave and come back (costs an embedding per track every few seconds). Audio-only files raise
    ``MediaError``; a file with no face gives an analysis with no timelines.
    """
    from tools.faces import FaceOptions, analyze_image, analyze_video
    from tools.media import iter_frames, load_image, probe_media

    settings = settings or get_settings()
    started = time.perf_counter()
    info = probe_media(path, settings)
    if info.kind == "audio":
        raise MediaError(f"{info.path}: an audio-only file has no faces whose emotions could be analysed")
    expression = model if model is not None and not isinstance(model, str) else get_expression_model(model)
    aus = au_model if au_model is not None and not isinstance(au_model, str) else get_au_model(au_model)
    window_s = smoothing_s or settings.expression_smoothing_s
    timelines: list[ExpressionTimeline] = []
    if info.kind == "image":
        image = load_image(info.path, settings)
        faces = analyze_image(image, FaceOptions(embeddings=False))
        for estimate in estimate_emotions(image, faces, expression, aus):
            timeline = ExpressionTimeline(track_id=estimate.track_id or 0, estimates=[estimate])
            timeline.dynamics = compute_dynamics(timeline, window_s)
            timelines.append(timeline)
        return EmotionAnalysis(str(info.path), "image", expression.name, aus.name, 0.0, timelines,
                               time.perf_counter() - started)

    sample_fps = fps or settings.video_fps
    options = FaceOptions(embeddings=embeddings, pose=False)
    video = analyze_video(info, options, sample_fps, progress, settings)
    by_frame: dict[int, list[Face]] = {}
    for track in video.tracks:
        for face in track.faces:
            by_frame.setdefault(int(face.frame_index or 0), []).append(face)
    by_face: dict[int, EmotionEstimate] = {}
    for frame in iter_frames(info.path, sample_fps, settings=settings):
        faces_here = by_frame.get(frame.index)
        if faces_here:
            estimates = estimate_emotions(frame.image, faces_here, expression, aus)
            for face, estimate in zip(faces_here, estimates, strict=True):
                by_face[id(face)] = estimate
    for track in video.tracks:
        faces = [f for f in track.faces if id(f) in by_face]
        estimates = rereference_track([by_face[id(f)] for f in faces], faces)
        timeline = ExpressionTimeline(track_id=track.track_id, estimates=estimates)
        timeline.dynamics = compute_dynamics(timeline, window_s)
        timelines.append(timeline)
    return EmotionAnalysis(str(info.path), "video", expression.name, aus.name, sample_fps, timelines,
                           time.perf_counter() - started)
