"""Video liveness on clips composed from a real photo (evals/liveness_clips.py): a pulse injected at a known rate
is recovered within 5 bpm through head motion, noise and H.264; the same photo without a pulse, moved rigidly in
front of the camera, shows no sign of life; a face that blinks (eyelids warped shut on the real photo) is live."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.clips import astronaut_head
from evals.liveness_clips import pulse_clip
from evals.mesh_warps import close_eyes, warp_face
from tools.attack.liveness import NO_LIFE, assess_liveness
from tools.langchain_tools.attack import detect_attacks

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("bpm", [54.0, 132.0])
def test_recovers_an_injected_pulse_within_5_bpm(tmp_path: Path, bpm: float) -> None:
    clip = pulse_clip(tmp_path / "live.mp4", bpm, seconds=10.0, noise=2.0, motion_px=10.0, seed=int(bpm), crf=12)
    report = assess_liveness(clip)
    assert len(report.tracks) == 1
    pulse = report.tracks[0].pulse
    assert pulse is not None and pulse.detected and pulse.bpm is not None
    assert abs(pulse.bpm - bpm) <= 5.0
    track = report.tracks[0]
    assert any("rPPG pulse" in reason for reason in track.reasons)
    assert track.model is not None and track.model.fake_probability < 0.9  # the model is not confident here
    assert track.verdict == "live"


def test_a_still_photo_moved_in_front_of_the_camera_has_no_pulse(tmp_path: Path) -> None:
    clip = pulse_clip(tmp_path / "photo.mp4", None, seconds=10.0, noise=2.0, motion_px=10.0, seed=3, crf=12)
    report = assess_liveness(clip)
    track = report.tracks[0]
    assert track.pulse is not None and not track.pulse.detected and track.pulse.bpm is None
    assert track.motion is not None and track.motion.blinks == 0
    assert track.verdict == "attack" and track.attack_kind == NO_LIFE
    assert "no sign of life" in " ".join(track.reasons)
    finding = detect_attacks(str(clip))  # what the agent reads
    assert finding.label == f"attack suspected: {NO_LIFE}"
    assert finding.facts["people"][0]["verdict"] == "attack" and "pulse_bpm" not in finding.facts["people"][0]


def test_blinks_are_counted_from_the_mesh(tmp_path: Path) -> None:
    from tools.faces import FaceOptions, analyze_image

    head = astronaut_head()
    mesh = analyze_image(head, FaceOptions(embeddings=False, pose=False))[0].mesh
    assert mesh is not None
    shut = warp_face(head, mesh, close_eyes(0.9))

    def head_at(t: float) -> np.ndarray:
        return shut if any(abs(t - blink) < 0.1 for blink in (1.5, 3.5)) else head

    clip = pulse_clip(tmp_path / "blink.mp4", None, seconds=5.0, noise=1.0, motion_px=4.0, head_at=head_at, crf=12)
    report = assess_liveness(clip)
    track = report.tracks[0]
    assert track.motion is not None and track.motion.blinks == 2
    assert track.pulse is not None and not track.pulse.detected
    assert track.verdict == "live"
