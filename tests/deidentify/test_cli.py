"""``mien deidentify IN OUT``: images and videos, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from evals.clips import pan_zoom_clip
from evals.samples import group_photo_path
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.media import iter_frames, load_image, probe_media


def test_an_image_is_deidentified_with_a_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deidentify", str(group_photo_path()), str(tmp_path / "group.png"), "--mode", "mask", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "image" and report["mode"] == "mask" and report["faces_detected"] >= 6
    assert MediapipeDetector(min_score=0.3).detect(load_image(tmp_path / "group.png")) == []


@pytest.mark.slow
def test_a_video_is_deidentified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = pan_zoom_clip(tmp_path / "clip.mp4", seconds=1.0, fps=10.0)
    code = main(["deidentify", str(clip), str(tmp_path / "out.mp4"), "--no-voice"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "10 frames" in printed and "no audio" in printed
    assert probe_media(tmp_path / "out.mp4").has_video
    checker = MediapipeDetector(min_score=0.3)
    assert [len(checker.detect(f.image)) for f in iter_frames(tmp_path / "out.mp4")] == [0] * 10


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("mien: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_an_unknown_mode_is_refused_before_the_input_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["deidentify", str(tmp_path / "missing.mp4"), str(tmp_path / "out.mp4"), "--mode", "smudge"])
    assert code == 2 and "unknown --mode 'smudge'" in one_line_error(capsys)


def test_a_video_output_must_be_mp4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = pan_zoom_clip(tmp_path / "clip.mp4", seconds=0.5, fps=4.0)
    code = main(["deidentify", str(clip), str(tmp_path / "out.avi")])
    assert code == 2 and "is written as .mp4 or .m4v" in one_line_error(capsys)
    assert not (tmp_path / "out.avi").exists()


def test_a_corrupt_input_gives_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    code = main(["deidentify", str(broken), str(tmp_path / "out.mp4")])
    assert code == 3 and "broken.mp4" in one_line_error(capsys)
    assert not (tmp_path / "out.mp4").exists()
