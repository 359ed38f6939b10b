"""Every consumer of a damaged file uses its readable part and says so, instead of failing the whole file.

The file is the case of issue 8: an AVI with MPEG-4 video and AC-3 audio, one packet of each damaged (ffmpeg plays
it with a warning). ``mien ask``, ``mien faces`` and ``mien deidentify`` run as real processes in
``test_quiet_and_exit_codes.py``; here ``mien transcribe``, ``mien emotions`` and ``mien faces`` (on a truncated,
phone-rotated WebM) run in process, where pytest captures our warnings.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from agent.cli import main
from evals import codec_clips as codecs

DAMAGED_AVI = dataclasses.replace(codecs.AVI_MPEG4_AC3, corrupt=(("video", 12), ("audio", 40)))


def damaged_avi(folder: Path) -> Path:
    return codecs.make_clip(folder / "damaged.avi", DAMAGED_AVI)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "tools.media.damage"]


@pytest.mark.slow
def test_transcribe_uses_the_readable_audio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = damaged_avi(tmp_path)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        assert main(["transcribe", str(path), "--json"]) == 0
    transcript = json.loads(capsys.readouterr().out)
    words = transcript["text"].lower()
    # espeak said "Hello, my name is Alice and I am very happy to meet you today."; the packet lost at 1.28 s
    # falls in the name, so only the words around it are asserted.
    assert "hello, my name is" in words and "happy to meet you" in words
    assert transcript["duration_s"] == pytest.approx(3.0, abs=0.05)
    assert any(message.startswith("damaged.avi: audio: skipped 1 damaged packet") for message in warnings_of(caplog))


@pytest.mark.slow
def test_emotions_use_the_readable_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = damaged_avi(tmp_path)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        assert main(["emotions", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    (track,) = result["tracks"]
    assert track["top_label"] == "Happiness"  # the astronaut smiles
    assert track["end_s"] >= 2.6  # frames after the damaged one were read
    assert any(message.startswith("damaged.avi: video: ") for message in warnings_of(caplog))


@pytest.mark.slow
def test_faces_in_a_truncated_phone_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    spec = dataclasses.replace(codecs.WEBM_VP9_OPUS, rotation=-90)
    whole = codecs.make_clip(tmp_path / "phone.webm", spec)
    cut = codecs.cut(whole, tmp_path / "phone-cut.webm", 0.5)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        assert main(["faces", str(cut), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["media"]["width"], result["media"]["height"]) == (240, 320)
    (track,) = result["tracks"]
    assert track["start_s"] == 0.0 and 0.8 <= track["end_s"] <= 1.6  # up to the cut, not the 3 s announced
    roll = result["faces"][0]["pose"]["roll_deg"]
    assert abs(roll) < 20  # upright: the rotation flag was applied before detection
    (warning,) = warnings_of(caplog)
    assert warning.startswith("phone-cut.webm: video: the readable part stops at") and "of 3.01 s" in warning
