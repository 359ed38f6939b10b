"""Media: probing, sampling frames at a rate with timestamps, 16 kHz audio, and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.media import badfiles
from tools.errors import MediaError, MediaTooLargeError
from tools.media import iter_frames, load_audio, load_image, probe_media, write_video


def test_probe_describes_a_composed_clip(pan_clip: Path) -> None:
    info = probe_media(pan_clip)
    assert (info.kind, info.width, info.height) == ("video", 640, 360)
    assert info.duration_s == pytest.approx(4.0, abs=0.15)
    assert info.fps == pytest.approx(10.0)
    assert info.has_video and not info.has_audio


def test_frames_are_sampled_at_the_requested_rate(pan_clip: Path) -> None:
    times = [frame.time_s for frame in iter_frames(pan_clip, fps=2.5)]
    assert times == pytest.approx([0.0, 0.4, 0.8, 1.2, 1.6, 2.0, 2.4, 2.8, 3.2, 3.6], abs=0.01)


def test_all_frames_when_no_rate_is_given(pan_clip: Path) -> None:
    frames = list(iter_frames(pan_clip))
    assert len(frames) == 40
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype == np.uint8


def test_an_image_is_one_frame_at_time_zero(tmp_path: Path, astronaut: np.ndarray) -> None:
    from PIL import Image

    path = tmp_path / "a.png"
    Image.fromarray(astronaut).save(path)
    frames = list(iter_frames(path, fps=5))
    assert len(frames) == 1 and frames[0].time_s == 0.0
    assert np.array_equal(frames[0].image, astronaut)


def test_audio_is_16k_mono_float(tmp_path: Path) -> None:
    rate = 44_100
    tone = (0.5 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32)
    clip = write_video(
        tmp_path / "tone.mp4", (np.zeros((64, 64, 3), np.uint8) for _ in range(10)), 10, audio=tone, sample_rate=rate
    )
    audio = load_audio(clip)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(16_000, rel=0.1)
    spectrum = np.abs(np.fft.rfft(audio[2000:14000]))
    peak_hz = np.argmax(spectrum) * 16_000 / 12_000
    assert peak_hz == pytest.approx(220, abs=5)


def test_video_without_audio_says_so(pan_clip: Path) -> None:
    with pytest.raises(MediaError, match="no audio track"):
        load_audio(pan_clip)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: badfiles.zero_byte(d / "empty.mp4"), "empty"),
        (lambda d: badfiles.text_as_jpg(d / "words.jpg"), "not a readable|corrupt"),
        (lambda d: badfiles.tiny_image(d / "dot.png"), "too small"),
        (lambda d: d / "missing.png", "no such file"),
    ],
)
def test_bad_files_give_specific_errors(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        list(iter_frames(make(tmp_path)))


def test_a_lying_header_is_refused_before_decoding(tmp_path: Path) -> None:
    path = badfiles.huge_header_png(tmp_path / "bomb.png")
    with pytest.raises(MediaTooLargeError, match="50000x50000"):
        load_image(path)


def test_truncated_video_is_refused(tmp_path: Path, pan_clip: Path) -> None:
    # The moov atom is at the end of an MP4 written in one pass: half a file cannot be opened at all.
    with pytest.raises(MediaError, match=r"corrupt|truncated"):
        list(iter_frames(badfiles.truncated_copy(pan_clip, tmp_path / "half.mp4")))


def test_audio_only_file_has_no_frames(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="audio-only"):
        list(iter_frames(badfiles.tone_wav(tmp_path / "tone.wav")))


def test_duration_limit(tmp_path: Path, pan_clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.settings import get_settings

    monkeypatch.setenv("MIEN_MAX_VIDEO_SECONDS", "2")
    get_settings.cache_clear()
    with pytest.raises(MediaTooLargeError, match="limit"):
        probe_media(pan_clip)


def test_written_video_keeps_frames_and_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"

    def frames():
        for i in range(5):
            yield np.full((32, 48, 3), i * 40, np.uint8)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError):
        write_video(target, frames(), 5)
    assert not target.exists() and list(tmp_path.iterdir()) == []
