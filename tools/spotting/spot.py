"""Spotting expressions in a video file: stream frames, mesh each face, spot per person, label each interval.

Nothing of the video is kept but each person's baseline window (``signal.TrackSpotter``), so memory stays flat in
the video's length. Every sampled frame is meshed (``mesh_stream``): micro-expressions last 4-15 frames at 30 fps,
and sampling at a lower rate would leave one or two frames of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.errors import MediaError
from tools.media import iter_frames, probe_media
from tools.media.prefetch import prefetched
from tools.media.types import Frame
from tools.settings import Settings, get_settings
from tools.spotting.labels import apex_action_units, label_from_units, moved_units
from tools.spotting.mesh_stream import MeshStream, TrackedMesh
from tools.spotting.regions import region_features
from tools.spotting.signal import RawInterval, SpotterConfig, TrackSpotter
from tools.spotting.types import MICRO_MAX_S, ExpressionInterval, SpottingResult, TrackSpan, kind_for_duration

ProgressCallback = Callable[[float, float], None]
METHOD = "training-free: mesh region motion, sliding baseline, per-region thresholds (geometric estimate)"
MIN_VIDEO_FRAMES = 3


@dataclass(frozen=True)
class SpotOptions:
    """``fps``: sampling rate (None = every frame, capped at ``max_fps``). ``max_faces``: people followed at once
    (more faces than this in view are not meshed). ``min_track_s``: people seen for less are reported but not
    spotted (their baseline would be a handful of frames). ``max_fps`` and ``max_faces`` left None come from the
    settings (``MIEN_SPOT_MAX_FPS``, ``MIEN_SPOT_MAX_FACES``)."""

    fps: float | None = None
    max_fps: float | None = None
    max_faces: int | None = None
    min_track_s: float = 1.0
    micro_max_s: float = MICRO_MAX_S
    config: SpotterConfig = field(default_factory=SpotterConfig)
    keep_trace: bool = False
    keep_features: bool = False


def _meshed_frames(
    path: Path, sample: float | None, stream: MeshStream, settings: Settings
) -> Iterator[tuple[Frame, list[TrackedMesh]]]:
    """Each frame with its faces' meshes: the part that runs in C++ (decoding, mediapipe), run ahead in a thread."""
    for frame in iter_frames(path, sample, settings=settings):
        yield frame, list(stream.process(frame.index, frame.image))


@dataclass
class _Person:
    spotter: TrackSpotter
    intervals: list[ExpressionInterval] = field(default_factory=list)


def label_interval(raw: RawInterval, track_id: int, fps: float, micro_max_s: float) -> ExpressionInterval:
    """The finished interval of ``raw``: kind by duration, label and moved AUs from the apex."""
    units = apex_action_units(raw.apex_measures, raw.baseline_measures)
    label, label_score = label_from_units(units)
    frames = raw.offset_frame - raw.onset_frame + 1
    regions = tuple(sorted((n for n, s in raw.region_scores.items() if s >= 1.0), key=lambda n: -raw.region_scores[n]))
    return ExpressionInterval(
        track_id=track_id,
        onset_frame=raw.onset_frame,
        apex_frame=raw.apex_frame,
        offset_frame=raw.offset_frame,
        onset_s=raw.onset_s,
        apex_s=raw.apex_s,
        offset_s=raw.offset_s,
        kind=kind_for_duration(frames / fps, micro_max_s),
        score=raw.score,
        regions=regions,
        label=label,
        label_score=label_score,
        action_units=moved_units(units),
        apex_box=tuple(round(v, 1) for v in raw.apex_box),  # type: ignore[arg-type]
    )


def spot_video(
    path: str | Path,
    options: SpotOptions | None = None,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
) -> SpottingResult:
    """Macro- and micro-expression intervals of every person in a video, in time order.

    Raises ``MediaError`` for images, audio-only files and videos of fewer than ``MIN_VIDEO_FRAMES`` frames. A
    video without faces gives a result with no tracks and a note saying so.
    """
    settings = settings or get_settings()
    options = options or SpotOptions()
    max_fps = options.max_fps or settings.spot_max_fps
    info = probe_media(path, settings)
    if info.kind != "video" or not info.has_video:
        what = f"an {info.kind} file" if info.kind != "video" else "a video without a picture track"
        raise MediaError(f"{info.path}: spotting needs a video; this is {what}")
    native = info.fps if info.fps > 0 else max_fps
    fps = min(options.fps or native, native, max_fps)
    sample = None if fps >= native - 1e-6 else fps
    started = time.perf_counter()
    stream = MeshStream(max_faces=options.max_faces or settings.spot_max_faces)
    people: dict[int, _Person] = {}
    frames = 0
    last_time = 0.0
    meshed = prefetched(_meshed_frames(info.path, sample, stream, settings))
    try:
        for frame, meshes in meshed:
            frames += 1
            last_time = frame.time_s
            for tracked in meshes:
                person = people.get(tracked.track_id)
                if person is None:
                    person = people[tracked.track_id] = _Person(
                        TrackSpotter(fps, options.config, options.keep_trace, options.keep_features)
                    )
                points, measures = region_features(tracked.mesh)
                b = tracked.box
                pushed = person.spotter.push(frame.index, frame.time_s, points, measures, (b.x0, b.y0, b.x1, b.y1))
                for raw in pushed:
                    person.intervals.append(label_interval(raw, tracked.track_id, fps, options.micro_max_s))
            if progress is not None:
                progress(frame.time_s, info.duration_s)
    finally:
        meshed.close()  # joins the meshing thread before its graph is closed
        stream.close()
    if frames < MIN_VIDEO_FRAMES:
        raise MediaError(
            f"{info.path}: the video has {frames} frame{'s' if frames != 1 else ''}; spotting needs at least "
            f"{MIN_VIDEO_FRAMES} (an expression is a change over time)"
        )
    duration_s = max(info.duration_s, last_time + 1.0 / fps)
    result = SpottingResult(str(info.path), fps, frames, duration_s, METHOD)
    min_frames = max(MIN_VIDEO_FRAMES, round(options.min_track_s * fps))
    for track_id, person in sorted(people.items()):
        spotter = person.spotter
        seen = spotter.frames_seen
        span_s = seen / fps
        if seen < min_frames:
            note = (f"person {track_id} was seen for {seen} frames ({span_s:.2f} s), too short to spot "
                    f"(needs {options.min_track_s:g} s for a baseline)")
            result.notes.append(note)
            person.intervals.clear()
        else:
            person.intervals.extend(label_interval(r, track_id, fps, options.micro_max_s) for r in spotter.flush())
            note = None
        result.tracks.append(
            TrackSpan(track_id, spotter.first_frame or 0, spotter.last_frame or 0, seen, note is None, note)
        )
        result.intervals.extend(person.intervals)
        if options.keep_trace:
            result.traces[track_id] = list(spotter.trace)
        if options.keep_features:
            result.features[track_id] = list(spotter.features)
    if not people:
        result.notes.append("no face found in the video, so no expression could be spotted")
    result.intervals.sort(key=lambda i: (i.onset_s, i.track_id))
    result.processing_s = time.perf_counter() - started
    return result

