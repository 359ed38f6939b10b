"""Per-frame coverage: detections on every frame linked into tracks, missed frames filled from their neighbours.

The detections are real: the mediapipe detector run on every frame of a clip composed from a real photo.
Dropping some of them simulates a detector that misses a face on those frames.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.deidentify.coverage import FrameBoxes, FrameCoverage
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.faces.types import Box
from tools.media import iter_frames


@pytest.fixture(scope="module")
def pan_detections(pan_clip: Path) -> list[list[Box]]:
    """The astronaut's box on every frame of the pan-and-zoom clip (one face per frame)."""
    detector = MediapipeDetector(min_score=0.5)
    boxes = [[face.box for face in detector.detect(frame.image)] for frame in iter_frames(pan_clip)]
    assert len(boxes) == 40 and all(len(b) == 1 for b in boxes)
    return boxes


@pytest.fixture(scope="module")
def crossing_detections(crossing_clip: Path) -> list[list[Box]]:
    detector = MediapipeDetector(min_score=0.5)
    return [[face.box for face in detector.detect(frame.image)] for frame in iter_frames(crossing_clip)]


def run(coverage: FrameCoverage, detections: list[list[Box]]) -> list[FrameBoxes]:
    out: list[FrameBoxes] = []
    for index, boxes in enumerate(detections):
        out += coverage.push(index, boxes)
    return out + coverage.finish()


def test_every_frame_comes_out_once_in_order(pan_detections: list[list[Box]]) -> None:
    frames = run(FrameCoverage(), pan_detections)
    assert [f.frame_index for f in frames] == list(range(40))
    assert all(len(f.boxes) == 1 and f.boxes[0].source == "detected" for f in frames)
    assert {f.boxes[0].track_id for f in frames} == {1}


def test_frames_where_the_detector_missed_get_interpolated_boxes(pan_detections: list[list[Box]]) -> None:
    dropped = {12, 13, 14, 15, 16, 30}
    flaky = [[] if index in dropped else boxes for index, boxes in enumerate(pan_detections)]
    coverage = FrameCoverage(max_gap_frames=8)
    frames = run(coverage, flaky)
    for index in dropped:
        (cover,) = frames[index].boxes
        assert cover.source == "interpolated" and cover.track_id == 1
        # The filled-in box sits where the detector would have put it (the face moves and grows meanwhile).
        assert cover.box.iou(pan_detections[index][0]) > 0.85
    assert coverage.boxes_interpolated == len(dropped) and coverage.tracks_opened == 1


def test_without_tracking_the_missed_frames_would_show_the_face(pan_detections: list[list[Box]]) -> None:
    flaky = [[] if index in {12, 13} else boxes for index, boxes in enumerate(pan_detections)]
    frames = run(FrameCoverage(max_gap_frames=0, hold_frames=0), flaky)
    assert frames[12].boxes == () and frames[13].boxes == ()


def test_a_gap_longer_than_the_limit_is_not_bridged(pan_detections: list[list[Box]]) -> None:
    flaky = [[] if 10 <= index < 20 else boxes for index, boxes in enumerate(pan_detections)]
    coverage = FrameCoverage(max_gap_frames=3, hold_frames=2)
    frames = run(coverage, flaky)
    assert [len(frames[i].boxes) for i in range(9, 21)] == [1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1]
    # The last box is held after the track's end, the first one before the new track's start.
    assert [frames[i].boxes[0].source for i in (10, 11, 18, 19, 20)] == ["held"] * 4 + ["detected"]
    assert coverage.tracks_opened == 2


def test_a_face_found_late_is_also_hidden_on_the_frames_before(pan_detections: list[list[Box]]) -> None:
    late = [[] if index < 5 else boxes for index, boxes in enumerate(pan_detections)]
    frames = run(FrameCoverage(hold_frames=3), late)
    assert [len(frames[i].boxes) for i in range(6)] == [0, 0, 1, 1, 1, 1]
    assert frames[2].boxes[0].box == pan_detections[5][0] and frames[2].boxes[0].source == "held"


def test_two_people_crossing_keep_their_tracks_through_the_occlusion(crossing_detections: list[list[Box]]) -> None:
    frames = run(FrameCoverage(), crossing_detections)
    assert min(len(boxes) for boxes in crossing_detections) == 1  # one face hides the other for a while
    assert min(len(f.boxes) for f in frames) >= 2  # ...but both keep a box on every frame

    def track_at(index: int, leftmost: bool) -> int:
        covers = sorted((c for c in frames[index].boxes if c.source == "detected"), key=lambda c: c.box.x0)
        return (covers[0] if leftmost else covers[-1]).track_id

    # The astronaut walks left to right, the other man right to left: each keeps one track id end to end.
    assert track_at(0, leftmost=True) == track_at(39, leftmost=False)
    assert track_at(0, leftmost=False) == track_at(39, leftmost=True)
    assert track_at(0, leftmost=True) != track_at(0, leftmost=False)


def test_frames_are_released_after_a_bounded_look_ahead(pan_detections: list[list[Box]]) -> None:
    coverage = FrameCoverage(max_gap_frames=8, hold_frames=3)
    released = 0
    for index, boxes in enumerate(pan_detections):
        released += len(coverage.push(index, boxes))
        # Frame i is final once frame i + lookahead is in: at most lookahead + 1 frames ever wait.
        assert (index + 1) - released == min(index + 1, coverage.lookahead_frames)
    assert coverage.lookahead_frames == 9


def test_frames_must_be_pushed_in_order() -> None:
    coverage = FrameCoverage()
    coverage.push(0, [])
    with pytest.raises(ValueError, match="in order"):
        coverage.push(2, [])
