"""Body-cue rules on real landmarks: the astronaut's pose and real hands from t1.jpg, moved to known places.

The pose and hand points come from mediapipe on real photos; what a test changes is where a hand or a wrist sits
(geometry only, said in each test), so that each rule is checked on both sides of its threshold.
"""

from __future__ import annotations

import numpy as np
import pytest

from evals.body_clips import hand_points
from evals.samples import astronaut
from tools.body.cues import (
    LEFT_SHOULDER,
    LEFT_WRIST,
    RIGHT_SHOULDER,
    RIGHT_WRIST,
    FrameCues,
    arms_crossed,
    cue_intervals,
    frame_cues,
    grip,
)
from tools.body.landmarks import get_body_landmarker
from tools.body.motion import head_gestures, zigzag
from tools.body.types import BodyFrame
from tools.faces import FaceOptions, analyze_image
from tools.faces.types import Box, Face, HeadPose, Track


@pytest.fixture(scope="module")
def astronaut_body() -> tuple[Box, np.ndarray]:
    image = astronaut()
    face = analyze_image(image, FaceOptions(embeddings=False))[0]
    body = get_body_landmarker().body_of(image, face.box)
    assert body.pose is not None
    return face.box, body.pose


@pytest.fixture(scope="module")
def chip_hand() -> np.ndarray:
    """Chandler's hand holding a poker chip in t1.jpg (21 points from the hand model)."""
    return hand_points("chip")


def test_the_astronauts_real_pose_ties_to_her_face(astronaut_body: tuple[Box, np.ndarray]) -> None:
    box, pose = astronaut_body
    nose = pose[0, :2]
    assert box.x0 < nose[0] < box.x1 and box.y0 < nose[1] < box.y1
    assert pose[LEFT_SHOULDER, 0] > pose[RIGHT_SHOULDER, 0]  # facing the camera: her left shoulder on image right


def test_arms_cross_only_when_both_wrists_pass_the_midline(astronaut_body: tuple[Box, np.ndarray]) -> None:
    _, real = astronaut_body
    assert arms_crossed(real) == 0.0  # her arms hang at her sides
    pose = real.copy()
    mid = pose[[LEFT_SHOULDER, RIGHT_SHOULDER], :2].mean(axis=0)
    width = float(np.linalg.norm(pose[LEFT_SHOULDER, :2] - pose[RIGHT_SHOULDER, :2]))
    # Geometry only: each wrist moved to the other side of her chest, 0.7 shoulder widths below the shoulders.
    pose[LEFT_WRIST, :3] = [mid[0] - 0.3 * width, mid[1] + 0.7 * width, 0.9]
    pose[RIGHT_WRIST, :3] = [mid[0] + 0.3 * width, mid[1] + 0.7 * width, 0.9]
    assert arms_crossed(pose) == pytest.approx(0.3, abs=1e-6)
    one = pose.copy()
    one[RIGHT_WRIST, :3] = real[RIGHT_WRIST, :3] + [0, 0, 0.9 - real[RIGHT_WRIST, 2]]
    assert arms_crossed(one) == 0.0  # one hand across the chest is not crossed arms
    box = Box(*(mid - width / 2), *(mid - width / 4))
    cues = frame_cues(BodyFrame(1, 0, 0.0, box, pose)).cues
    assert {"arms_crossed", "self_protection"} <= set(cues)


def test_a_real_hand_on_the_face_is_a_touch_and_below_the_chin_a_neck_touch(
    astronaut_body: tuple[Box, np.ndarray], chip_hand: np.ndarray
) -> None:
    box, pose = astronaut_body
    centre = np.array(box.center)
    on_face = chip_hand - chip_hand.mean(axis=0) + centre  # the same real hand, moved onto her cheek
    assert set(frame_cues(BodyFrame(1, 0, 0.0, box, pose, [on_face])).cues) == {"hand_to_face"}
    below = chip_hand - chip_hand.mean(axis=0) + [centre[0], box.y1 + 0.5 * chip_hand[:, 1].ptp()]
    assert set(frame_cues(BodyFrame(1, 0, 0.0, box, pose, [below])).cues) == {"hand_to_neck"}
    away = chip_hand - chip_hand.mean(axis=0) + [centre[0] + 0.2 * box.width, box.y1 + 2.5 * box.height]
    assert set(frame_cues(BodyFrame(1, 0, 0.0, box, pose, [away])).cues) == {"object_manipulation"}


def test_the_chip_hand_is_a_grip_and_a_spread_hand_is_not(chip_hand: np.ndarray) -> None:
    assert grip(chip_hand) > 0.0
    spread = chip_hand.copy()
    spread[4] = spread[0] + 3.0 * (spread[4] - spread[0])  # thumb tip pulled far from the index finger
    assert grip(spread) == 0.0


def test_cue_intervals_bridge_one_missing_sample_and_drop_single_blips() -> None:
    box = Box(0, 0, 10, 10)
    flags = [0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0]  # a touch with one miss in it, then a lone blip
    items = [FrameCues(BodyFrame(1, i, i / 5, box), {"hand_to_face": 0.5} if f else {}) for i, f in enumerate(flags)]
    cues = cue_intervals(items, min_samples=2)
    assert [(c.kind, c.frames) for c in cues] == [("hand_to_face", (1, 2, 4, 5))]
    assert cues[0].start_s == pytest.approx(0.2) and cues[0].end_s == pytest.approx(1.0)


def _track(pitches: list[float], yaws: list[float], fps: float = 5.0) -> Track:
    faces = [
        Face(Box(0, 0, 1, 1), 1.0, pose=HeadPose(y, p, 0.0), time_s=i / fps, frame_index=i)
        for i, (p, y) in enumerate(zip(pitches, yaws, strict=True))
    ]
    return Track(1, faces)


def test_two_pitch_swings_are_a_nod_and_a_single_turn_is_no_shake() -> None:
    rng = np.random.default_rng(0)
    still = list(rng.normal(0.0, 1.0, 10))  # pose noise of a still head
    nod = [0.0, -6.0, -12.0, -5.0, 0.0, -7.0, -12.0, -4.0, 0.0]
    turn = [0.0, 8.0, 16.0, 20.0, 20.0, 20.0, 20.0, 20.0, 20.0]  # turns away and stays
    track = _track(still + nod + still, still + turn + [20.0] * 10)
    cues = head_gestures(track)
    assert [c.kind for c in cues] == ["nod"]
    assert cues[0].start_s >= 2.0 and cues[0].end_s <= 3.8 and cues[0].strength >= 11.0
    assert head_gestures(_track(still * 2, still * 2)) == []


def test_zigzag_keeps_only_reversals_of_the_swing_size() -> None:
    times = [i * 0.2 for i in range(7)]
    assert zigzag(times, [0, 3, 0, 3, 0, 3, 0]) == []  # 3-degree wobble
    assert [a for _, a in zigzag(times, [0, 10, 0, 10, 0, 10, 0])] == [0, 10, 0, 10, 0, 10, 0]
