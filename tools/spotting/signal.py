"""The training-free spotter of one person: sliding baseline, per-region thresholds, peak finding, merging.

Streamed: frames go in one at a time and finished intervals come out, with memory bounded by the baseline window
(a few seconds of region coordinates in ring buffers), however long the video is. For frame ``c`` the baseline is
the median of the region coordinates over ``[c - H, c + H]`` (``H`` = half of ``baseline_s``, recomputed every
``baseline_stride`` frames): it follows slow drift and what is left of head motion, while a movement much shorter
than ``H`` barely shifts it. A region's threshold is its recent noise, median + ``noise_k`` MADs of its
displacement over the last ``noise_s`` seconds, never below its ``floor_iod``. An interval is a run whose score
(displacement / threshold, the largest over regions) stays at or above ``low`` and peaks at ``min_peak`` or more,
trimmed at both ends to the frames scoring at least ``trim`` of the peak, and merged with a neighbour closer than
``merge_gap_s``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from tools.expression.action_units import MEASURES, GeometricMeasures
from tools.spotting.regions import POINTS, REGION_NAMES, region_displacements


@dataclass(frozen=True)
class SpotterConfig:
    """Tunables of the training-free spotter (times in seconds, displacements in IOD units)."""

    baseline_s: float = 8.0
    baseline_stride: int = 3
    noise_s: float = 20.0
    noise_k: float = 6.0
    floor_iod: tuple[float, ...] = (0.012, 0.012, 0.015, 0.014, 0.014)  # brows, eyes, nose, mouth, cheeks
    low: float = 0.6
    min_peak: float = 1.0
    trim: float = 0.4
    merge_gap_s: float = 0.1
    min_duration_s: float = 0.11  # 4 frames at 30 fps: a one-frame glitch smoothed over 3 frames is not one
    max_duration_s: float = 6.0
    warmup_s: float = 0.5


@dataclass(frozen=True)
class RawInterval:
    """A run found by the spotter, before labelling: inclusive frame numbers, the apex's score and measures."""

    onset_frame: int
    apex_frame: int
    offset_frame: int
    onset_s: float
    apex_s: float
    offset_s: float
    score: float
    region_scores: dict[str, float]
    apex_measures: GeometricMeasures
    baseline_measures: GeometricMeasures
    apex_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class _Scored:
    """One frame's displacement from its baseline, with what an interval needs if this frame is its apex."""

    frame: int
    time_s: float
    displacement: np.ndarray
    measures: GeometricMeasures
    baseline_measures: GeometricMeasures
    box: tuple[float, float, float, float]


@dataclass
class _Run:
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    peak: float = 0.0
    region_scores: dict[str, float] = field(default_factory=dict)
    apex_measures: GeometricMeasures | None = None
    baseline_measures: GeometricMeasures | None = None
    apex_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


class TrackSpotter:
    """Spots one person's expressions frame by frame: ``push`` each meshed frame, then ``flush`` at the end.

    Both return the intervals that became final. Frames must come in increasing order; gaps (frames where the
    mesh failed) are allowed.
    """

    def __init__(
        self, fps: float, config: SpotterConfig | None = None, keep_trace: bool = False, keep_features: bool = False
    ) -> None:
        self.fps = fps
        self.config = config = config or SpotterConfig()
        self.keep_trace = keep_trace
        # (frame, region ratios (5,) + AU measure changes from the baseline) per scored frame, with
        # ``keep_features``: the per-frame input of SpottingNet (it grows with the video; for training data).
        self.keep_features = keep_features
        self.features: list[tuple[int, np.ndarray]] = []
        self.half = max(2, round(config.baseline_s * fps / 2))
        size = 2 * self.half + 1
        self._points = np.zeros((size, len(POINTS), 2), np.float32)
        self._measures = np.zeros((size, len(MEASURES)), np.float64)
        self._frame = np.zeros(size, np.int64)
        self._time = np.zeros(size, np.float64)
        self._iod = np.zeros(size, np.float64)
        self._box = np.zeros((size, 4), np.float64)
        self._pushed = 0  # frames pushed
        self._scored = 0  # frames whose displacement is computed
        self._baseline: tuple[np.ndarray, GeometricMeasures] | None = None
        self._noise = np.zeros((max(10, round(config.noise_s * fps)), len(REGION_NAMES)), np.float64)
        self._noise_count = 0
        self._threshold = np.asarray(config.floor_iod, np.float64)
        self._floor = np.asarray(config.floor_iod, np.float64)
        self._recent: deque[_Scored] = deque(maxlen=3)
        self._run: _Run | None = None
        self._pending: RawInterval | None = None
        self.frames_seen = 0
        self.first_frame: int | None = None
        self.last_frame: int | None = None
        # (time_s, score) ten times a second, for plots; only with ``keep_trace`` (it grows with the video).
        self.trace: list[tuple[float, float]] = []
        self._trace_every = max(1, round(fps / 10))

    def push(
        self,
        frame: int,
        time_s: float,
        points: np.ndarray,
        measures: GeometricMeasures,
        box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    ) -> list[RawInterval]:
        """Add one frame's region coordinates (len(POINTS), 2), AU measures and face box (x0, y0, x1, y1 px);
        return the intervals now final."""
        self.frames_seen += 1
        self.first_frame = frame if self.first_frame is None else self.first_frame
        self.last_frame = frame
        slot = self._pushed % len(self._frame)
        self._points[slot], self._measures[slot] = points, measures.values
        self._frame[slot], self._time[slot], self._iod[slot] = frame, time_s, measures.iod_px
        self._box[slot] = box
        self._pushed += 1
        out: list[RawInterval] = []
        while self._pushed - 1 - self._scored >= self.half:
            out.extend(self._score_next())
        return out

    def flush(self) -> list[RawInterval]:
        """Score the frames still waiting for look-ahead and close any open interval."""
        out: list[RawInterval] = []
        while self._scored < self._pushed:
            out.extend(self._score_next())
        if self._recent:
            out.extend(self._smoothed(last=True))
        out.extend(self._close_run())
        if self._pending is not None and self._long_enough(self._pending):
            out.append(self._pending)
        self._pending = None
        return out

    def _window(self, centre: int) -> np.ndarray:
        lo, hi = max(0, centre - self.half, self._pushed - len(self._frame)), min(self._pushed - 1, centre + self.half)
        return np.arange(lo, hi + 1) % len(self._frame)

    def _score_next(self) -> Iterator[RawInterval]:
        centre = self._scored
        self._scored += 1
        slot = centre % len(self._frame)
        if self._baseline is None or centre % self.config.baseline_stride == 0:
            window = self._window(centre)
            self._baseline = (
                np.median(self._points[window], axis=0),
                GeometricMeasures(np.median(self._measures[window], axis=0), float(np.median(self._iod[window]))),
            )
        baseline, baseline_measures = self._baseline
        displacement = region_displacements(self._points[slot], baseline)
        measures = GeometricMeasures(self._measures[slot].copy(), float(self._iod[slot]))
        box = (float(self._box[slot, 0]), float(self._box[slot, 1]), float(self._box[slot, 2]),
               float(self._box[slot, 3]))
        self._recent.append(_Scored(int(self._frame[slot]), float(self._time[slot]), displacement, measures,
                                    baseline_measures, box))
        if len(self._recent) >= 2:
            yield from self._smoothed(last=False)

    def _smoothed(self, last: bool) -> Iterator[RawInterval]:
        """Score the middle of the last three frames (or the newest at the end) on their mean displacement."""
        recent = list(self._recent)
        middle = recent[-1] if last else recent[len(recent) // 2 if len(recent) == 3 else 0]
        smoothed = np.mean(np.stack([r.displacement for r in (recent[-2:] if last else recent)]), axis=0)
        self._noise[self._noise_count % len(self._noise)] = smoothed
        self._noise_count += 1
        filled = min(self._noise_count, len(self._noise))
        if self._noise_count % 10 == 1 or filled < len(self._noise):
            noise = self._noise[:filled]
            median = np.median(noise, axis=0)
            mad = np.median(np.abs(noise - median), axis=0) * 1.4826
            self._threshold = np.maximum(self._floor, median + self.config.noise_k * mad)
        ratios = smoothed / self._threshold
        if self.keep_features:
            change = middle.measures.values - middle.baseline_measures.values
            self.features.append((middle.frame, np.concatenate([ratios, change]).astype(np.float32)))
        if (middle.frame - (self.first_frame or 0)) / self.fps < self.config.warmup_s:
            return
        yield from self._detect(middle, ratios)

    def _detect(self, scored: _Scored, ratios: np.ndarray) -> Iterator[RawInterval]:
        frame, time_s = scored.frame, scored.time_s
        score = float(np.max(ratios))
        if self.keep_trace and (frame - (self.first_frame or 0)) % self._trace_every == 0:
            self.trace.append((time_s, score))
        if score < self.config.low or (self._run is not None and frame - self._run.frames[-1] > 2):
            yield from self._close_run()
        if score < self.config.low:
            return
        run = self._run = self._run or _Run()
        if len(run.frames) >= self.config.max_duration_s * self.fps:
            self._run = None  # far too long to be an expression (a pose change the baseline has not caught up with)
            return
        run.frames.append(frame)
        run.times.append(time_s)
        run.scores.append(score)
        if score > run.peak:
            run.peak = score
            run.region_scores = {n: float(r) for n, r in zip(REGION_NAMES, ratios, strict=True)}
            run.apex_measures, run.baseline_measures = scored.measures, scored.baseline_measures
            run.apex_box = scored.box

    def _close_run(self) -> Iterator[RawInterval]:
        run, self._run = self._run, None
        if run is None or run.peak < self.config.min_peak or run.apex_measures is None:
            return
        scores = np.asarray(run.scores)
        keep = np.flatnonzero(scores >= self.config.trim * run.peak)
        first, last, apex = int(keep[0]), int(keep[-1]), int(np.argmax(scores))
        interval = RawInterval(
            run.frames[first], run.frames[apex], run.frames[last], run.times[first], run.times[apex],
            run.times[last], run.peak, run.region_scores, run.apex_measures,
            run.baseline_measures or run.apex_measures, run.apex_box,
        )
        pending = self._pending
        if pending is not None and interval.onset_s - pending.offset_s <= self.config.merge_gap_s + 1.0 / self.fps:
            stronger = interval if interval.score > pending.score else pending
            self._pending = RawInterval(
                pending.onset_frame, stronger.apex_frame, interval.offset_frame, pending.onset_s, stronger.apex_s,
                interval.offset_s, stronger.score, stronger.region_scores, stronger.apex_measures,
                stronger.baseline_measures, stronger.apex_box,
            )
            return
        if pending is not None and self._long_enough(pending):
            yield pending
        self._pending = interval

    def _long_enough(self, interval: RawInterval) -> bool:
        duration_s = (interval.offset_frame - interval.onset_frame + 1) / self.fps
        return self.config.min_duration_s <= duration_s <= self.config.max_duration_s
