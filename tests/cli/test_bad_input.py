"""Bad input to the CLI: a specific one-line error and a non-zero exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from evals.clips import render_frames
from tests.media import badfiles
from tools.media import write_video


def faceless_clip(path: Path) -> Path:
    return write_video(path, render_frames([], 2.0, 5.0, (320, 180)), 5.0)


CASES = {
    "zero-byte file": (lambda d: badfiles.zero_byte(d / "empty.mp4"), "empty"),
    "truncated mp4": (lambda d: badfiles.truncated_copy(faceless_clip(d / "full.mp4"), d / "cut.mp4"), "truncated"),
    "text named .jpg": (lambda d: badfiles.text_as_jpg(d / "words.jpg"), "not a readable"),
    "1x1 image": (lambda d: badfiles.tiny_image(d / "dot.png"), "too small"),
    "50000x50000 header": (lambda d: badfiles.huge_header_png(d / "bomb.png"), "50000x50000"),
    "video with no faces": (lambda d: faceless_clip(d / "nobody.mp4"), "no face found"),
    "audio-only file": (lambda d: badfiles.tone_wav(d / "tone.wav"), "audio-only"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_mien_faces_rejects_bad_input_clearly(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, message = CASES[case]
    code = main(["faces", str(make(tmp_path))])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("mien: error: ") and message in err, err
    assert "Traceback" not in err and err.count("\n") == 1


def test_a_gallery_that_is_not_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "gallery.sqlite"
    bogus.write_text("not a database\n" * 50)
    code = main(["gallery", "--path", str(bogus), "list"])
    err = capsys.readouterr().err
    assert code == 6 and "not a Mien gallery" in err and "Traceback" not in err
    assert bogus.read_text() == "not a database\n" * 50


def test_a_real_process_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    path = badfiles.text_as_jpg(tmp_path / "words.jpg")
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "faces", str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == 3
    assert "not a readable image" in done.stderr and "Traceback" not in done.stderr


def test_help_lists_the_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == 0
    for command in ("faces", "gallery", "identify", "models"):
        assert command in done.stdout
