"""Liveness on images and on bad input: no face, a tiny face, grayscale, a one-frame video, audio only."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from agent.cli import main
from evals.clips import background
from tools.attack.liveness import assess_liveness
from tools.errors import MediaError, NoFaceError
from tools.langchain_tools.attack import detect_attacks
from tools.media import save_image, write_video


@pytest.mark.slow
def test_a_photo_gets_a_model_only_verdict_said_to_be_weak(tmp_path: Path, astronaut: np.ndarray) -> None:
    path = save_image(tmp_path / "astronaut.png", astronaut)
    report = assess_liveness(path)
    assert report.kind == "image" and len(report.tracks) == 1
    track = report.tracks[0]
    assert track.model is not None and track.pulse is None and track.motion is None
    assert track.verdict in ("live", "undetermined", "attack")
    assert any("trained on synthesized attacks" in reason for reason in track.reasons)
    assert "weak evidence" in track.reasons[-1] or "leans to attack" in track.reasons[-1]


def test_no_face_is_a_clear_error_on_the_cli_and_an_answer_for_the_agent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_image(tmp_path / "wall.png", background(320, 240))
    assert assess_liveness(path).tracks == []
    assert main(["liveness", str(path)]) == NoFaceError.exit_code
    assert "no face found" in capsys.readouterr().err
    finding = detect_attacks(str(path))
    assert finding.label == "no face" and "cannot be judged" in finding.summary


def test_a_tiny_face_is_undetermined_and_says_why(tmp_path: Path) -> None:
    canvas = background(640, 480)
    from evals.clips import astronaut_head

    # a 96 px head: the detector still finds the face (about 17 px between the eyes), too small to judge
    head = cv2.resize(astronaut_head(), (96, 96), interpolation=cv2.INTER_AREA)
    canvas[200:296, 300:396] = head
    report = assess_liveness(save_image(tmp_path / "far.png", canvas))
    assert len(report.tracks) == 1
    track = report.tracks[0]
    assert track.face_size_px < 18
    assert track.verdict == "undetermined"
    assert "face too small" in track.reasons[0]


def test_grayscale_is_flagged(tmp_path: Path, astronaut: np.ndarray) -> None:
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    report = assess_liveness(save_image(tmp_path / "grey.png", np.repeat(grey[..., None], 3, axis=2)))
    track = report.tracks[0]
    assert track.grayscale
    assert any("grayscale input" in reason for reason in track.reasons)


def test_a_one_frame_video_is_judged_as_an_image(tmp_path: Path, astronaut: np.ndarray) -> None:
    clip = write_video(tmp_path / "one.mp4", [astronaut], fps=10.0)
    report = assess_liveness(clip)
    assert report.kind == "video" and report.frames_read == 1
    assert len(report.tracks) == 1 and report.tracks[0].pulse is None
    assert "one-frame video" in report.notes[0]


def test_audio_only_is_refused(tmp_path: Path) -> None:
    import wave

    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes((np.sin(np.arange(16000) / 5) * 8000).astype(np.int16).tobytes())
    with pytest.raises(MediaError, match="no face to check"):
        assess_liveness(path)
