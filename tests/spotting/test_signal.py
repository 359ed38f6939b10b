"""The training-free spotter on streams of region coordinates made here (no face model involved): exact frames
where regions were moved, still streams, merging, and memory that does not grow with the stream's length."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tools.expression.action_units import MEASURES, GeometricMeasures
from tools.spotting.regions import POINTS, SLICES
from tools.spotting.signal import RawInterval, TrackSpotter

FPS = 30.0
MEASURES_ZERO = GeometricMeasures(np.zeros(len(MEASURES)), 100.0)


def stream(frames: int, moves: list[tuple[str, int, int, float]], seed: int = 0) -> list[RawInterval]:
    """Push ``frames`` frames of a still face (mesh jitter 0.002 IOD) whose ``region`` points move by ``amount``
    IOD from ``start`` to ``end`` (inclusive); return every interval found."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1.0, 1.0, (len(POINTS), 2)).astype(np.float32)
    spotter = TrackSpotter(FPS)
    out = []
    for frame in range(frames):
        points = base + rng.normal(0.0, 0.002, base.shape).astype(np.float32)
        for region, start, end, amount in moves:
            if start <= frame <= end:
                points[SLICES[region], 1] += amount
        out.extend(spotter.push(frame, frame / FPS, points, MEASURES_ZERO))
    return out + spotter.flush()


def test_a_still_face_gives_no_interval() -> None:
    assert stream(600, []) == []


def test_a_short_mouth_movement_and_a_long_brow_movement_are_found_at_their_frames() -> None:
    found = stream(600, [("mouth", 100, 107, 0.05), ("brows", 300, 359, 0.04)])
    # Within a frame: the scores are smoothed over 3 frames, which may carry a step's edge one frame out.
    assert [(i.onset_frame, i.offset_frame) for i in found] in ([(100, 107), (300, 359)], [(100, 107), (299, 360)])
    assert max(found[0].region_scores, key=found[0].region_scores.__getitem__) == "mouth"
    assert max(found[1].region_scores, key=found[1].region_scores.__getitem__) == "brows"
    assert all(i.score > 1.0 for i in found)
    assert found[0].onset_s == 100 / FPS and found[0].offset_s == 107 / FPS


def test_a_movement_below_the_noise_floor_is_not_spotted() -> None:
    assert stream(400, [("mouth", 100, 110, 0.004)]) == []


def test_two_movements_a_frame_apart_merge_into_one() -> None:
    found = stream(400, [("mouth", 100, 106, 0.05), ("mouth", 109, 115, 0.05)])
    assert [(i.onset_frame, i.offset_frame) for i in found] == [(100, 115)]


def test_a_one_frame_glitch_is_not_an_expression() -> None:
    assert stream(400, [("mouth", 150, 150, 0.05)]) == []


@pytest.mark.slow
def test_memory_does_not_grow_with_the_stream() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(-1.0, 1.0, (len(POINTS), 2)).astype(np.float32)
    spotter = TrackSpotter(FPS)
    noise = rng.normal(0.0, 0.002, (64, *base.shape)).astype(np.float32)
    tracemalloc.start()
    for frame in range(6_000):
        spotter.push(frame, frame / FPS, base + noise[frame % 64], MEASURES_ZERO)
        if frame == 1_000:
            early, _ = tracemalloc.get_traced_memory()
    late, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert late - early < 64 * 1024, (early, late)  # 5,000 more frames, not even 64 KB more
