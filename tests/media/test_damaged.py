"""Damaged and unusual media: each damaged file gives its readable part with one warning, never a whole-file failure.

The clips are real encodes (``evals.codec_clips``) of a real photo and a real espeak-ng sentence; the damage is
injected into the container as transit damages files. Expectations come from how the clips were made (frame
count, frame times, the sentence's samples), not from the decoder under test.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from evals import codec_clips as codecs
from evals.codec_clips import AVI_MPEG4_AC3, MP4_H264_AAC, WEBM_VP9_OPUS, ClipSpec
from tools.errors import MediaError
from tools.media import iter_frames, load_audio, probe_media
from tools.media.damage import DamageReport, collect_damage

CONTAINERS = {"avi-mpeg4-ac3": AVI_MPEG4_AC3, "mp4-h264-aac": MP4_H264_AAC, "webm-vp9-opus": WEBM_VP9_OPUS}
SUFFIX = {"avi": ".avi", "mp4": ".mp4", "webm": ".webm"}
FRAMES = 30  # 3 s at 10 fps
BAD_VIDEO_PACKET, BAD_AUDIO_PACKET = 12, 40  # 1.2 s into the video; 40 audio packets into the sound:
# AC-3 packs 1536 samples at 48 kHz, AAC 1024 at 44.1 kHz, Opus 960 at 48 kHz.
BAD_AUDIO_AT_S = {"avi-mpeg4-ac3": 40 * 1536 / 48_000, "mp4-h264-aac": 40 * 1024 / 44_100, "webm-vp9-opus": 0.8}


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("codecs")


def made(clip_dir: Path, tmp_path: Path, name: str, spec: ClipSpec) -> Path:
    """``spec`` encoded once per module, copied into the test's folder (warnings are said once per file)."""
    source = clip_dir / f"{name}{SUFFIX[spec.container]}"
    if not source.exists():
        codecs.make_clip(source, spec)
    return Path(shutil.copy(source, tmp_path / source.name))


def decode_all(path: Path) -> tuple[list[float], np.ndarray | None, list[DamageReport]]:
    """Frame times, 16 kHz audio (None without a track) and the damage reports of reading the whole file."""
    with collect_damage() as reports:
        times = [frame.time_s for frame in iter_frames(path)]
        audio = load_audio(path) if probe_media(path).has_audio else None
    return times, audio, reports


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Our warnings (pytest also hooks FFmpeg's own loggers, which the CLI keeps silent)."""
    return [record for record in caplog.records if record.name == "tools.media.damage"]


def speech_similarity(audio: np.ndarray) -> float:
    """Correlation of the decoded sound's loudness (RMS per 20 ms) with that of the sentence it was made from.

    Loudness, not the waveform: lossy codecs keep the words but not the phase (AC-3 shifts it by a few samples).
    """
    reference = codecs.speech_at(16_000, 3.0)

    def envelope(samples: np.ndarray) -> np.ndarray:
        n = samples.size // 320
        return np.sqrt((samples[: n * 320].reshape(n, 320) ** 2).mean(axis=1))

    a, b = envelope(audio), envelope(reference)
    n = min(a.size, b.size)
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONTAINERS))
def test_clean_clips_decode_whole_and_say_nothing(
    name: str, clip_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = CONTAINERS[name]
    path = made(clip_dir, tmp_path, f"clean-{name}", spec)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        times, audio, reports = decode_all(path)
    assert times == pytest.approx([i / spec.fps for i in range(FRAMES)], abs=1e-3)
    assert audio is not None and audio.size == pytest.approx(48_000, abs=800)
    assert speech_similarity(audio) > 0.8
    assert reports == [] and ours(caplog) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONTAINERS))
def test_a_damaged_audio_packet_costs_that_packet_only(
    name: str, clip_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = dataclasses.replace(CONTAINERS[name], corrupt=(("audio", BAD_AUDIO_PACKET),))
    path = made(clip_dir, tmp_path, f"bad-audio-{name}", spec)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        times, audio, reports = decode_all(path)
    assert len(times) == FRAMES  # the video is untouched
    assert audio is not None and audio.size == pytest.approx(48_000, abs=800)  # the gap is filled, times kept
    assert speech_similarity(audio) > 0.7
    (report,) = reports
    assert report.stream == "audio" and report.skipped_packets + report.concealed_packets == 1
    assert report.stopped_at_s is None and report.first_damage_s == pytest.approx(BAD_AUDIO_AT_S[name], abs=0.08)
    (record,) = ours(caplog)
    assert record.getMessage() == report.message() and "used the rest" in record.getMessage()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONTAINERS))
def test_a_damaged_video_packet_costs_that_frame_and_not_the_file(
    name: str, clip_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = dataclasses.replace(CONTAINERS[name], corrupt=(("video", BAD_VIDEO_PACKET),))
    path = made(clip_dir, tmp_path, f"bad-video-{name}", spec)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        times, audio, reports = decode_all(path)
    assert FRAMES - 2 <= len(times) <= FRAMES and times[-1] == pytest.approx(2.9, abs=0.01)  # frames after it
    assert audio is not None and speech_similarity(audio) > 0.8
    (report,) = reports
    assert report.stream == "video" and report.skipped_packets + report.concealed_packets >= 1
    assert report.first_damage_s is not None and 0.8 <= report.first_damage_s <= 2.0  # threads report late
    assert len(ours(caplog)) == 1 and "video:" in ours(caplog)[0].getMessage()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mp4-h264-aac", "webm-vp9-opus", "avi-mpeg4-ac3"])
def test_variable_frame_rate_keeps_each_frames_time(name: str, clip_dir: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(CONTAINERS[name], variable_rate=True)
    path = made(clip_dir, tmp_path, f"vfr-{name}", spec)
    assert [f.time_s for f in iter_frames(path)] == pytest.approx(codecs.vfr_times(spec), abs=2e-3)
    # Sampling at 5 fps takes the first frame at or after each 0.2 s step: every second frame here.
    assert [f.time_s for f in iter_frames(path, fps=5)][:4] == pytest.approx([0.0, 0.2, 0.4, 0.6], abs=2e-3)
    assert probe_media(path).fps == pytest.approx(10.0, rel=0.05)  # the mean rate, also where AVI says 1000


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mp4-h264-aac", "webm-vp9-opus"])
def test_a_phone_rotation_flag_is_applied(name: str, clip_dir: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(CONTAINERS[name], rotation=-90)  # a phone held upright: landscape frames + flag
    turned = made(clip_dir, tmp_path, f"rot-{name}", spec)
    info = probe_media(turned)
    assert (info.width, info.height, info.rotation) == (240, 320, -90)
    shown = next(iter_frames(turned)).image
    meant = next(iter(codecs.face_frames(spec)))  # the portrait frame before it was stored turned
    assert shown.shape == meant.shape == (320, 240, 3)
    assert np.abs(shown.astype(int) - meant.astype(int)).mean() < 3.0
    # A turn the other way shows the astronaut upside down: far from what was meant, so the check can fail.
    assert np.abs(np.rot90(shown, k=2).astype(int) - meant.astype(int)).mean() > 20.0


@pytest.mark.slow
@pytest.mark.parametrize(("layout", "rate"), [("mono", 48_000), ("stereo", 48_000), ("mono", 44_100)])
def test_mono_stereo_and_rates_become_16k_mono_speech(layout: str, rate: int, clip_dir: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(MP4_H264_AAC, layout=layout, sample_rate=rate)
    audio = load_audio(made(clip_dir, tmp_path, f"audio-{layout}-{rate}", spec))
    assert audio.dtype == np.float32 and audio.size == pytest.approx(48_000, abs=1200)
    assert speech_similarity(audio) > 0.8


@pytest.mark.slow
@pytest.mark.parametrize("name", ["webm-vp9-opus", "avi-mpeg4-ac3"])
def test_a_truncated_file_decodes_up_to_the_cut_and_says_where(
    name: str, clip_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    whole = made(clip_dir, tmp_path, f"clean-{name}", CONTAINERS[name])
    cut = codecs.cut(whole, tmp_path / f"cut{whole.suffix}", 0.5)
    with caplog.at_level(logging.WARNING, logger="tools.media.damage"):
        times, audio, reports = decode_all(cut)
    assert 5 <= len(times) < FRAMES - 5 and times == pytest.approx([i / 10 for i in range(len(times))], abs=1e-3)
    assert audio is not None and 0.2 < audio.size / 48_000 < 0.8
    assert {report.stream for report in reports} == {"video", "audio"}
    video = next(report for report in reports if report.stream == "video")
    assert video.stopped_at_s == pytest.approx(times[-1] + 0.1, abs=0.11)
    assert "the readable part stops at" in video.message()
    if name.startswith("avi"):  # AVI has no duration to compare with; its RIFF header states the file's size
        assert f"of the {whole.stat().st_size:,} bytes its header announces" in video.message()
    else:
        assert f"of {probe_media(cut).duration_s:.2f} s" in video.message()
    assert len(ours(caplog)) == 2


@pytest.mark.slow
def test_a_truncated_mp4_with_its_index_first_decodes_up_to_the_cut(clip_dir: Path, tmp_path: Path) -> None:
    whole = made(clip_dir, tmp_path, "faststart", dataclasses.replace(MP4_H264_AAC, faststart=True))
    cut = codecs.cut(whole, tmp_path / "cut.mp4", 0.6)
    times, audio, reports = decode_all(cut)
    assert 5 <= len(times) < FRAMES - 5
    assert audio is not None and audio.size < 48_000 * 0.9
    assert all(
        report.stopped_at_s is not None and report.expected_s == pytest.approx(3.0, abs=0.05) for report in reports
    )


@pytest.mark.slow
def test_audio_with_every_packet_damaged_is_a_clear_error(clip_dir: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(AVI_MPEG4_AC3, corrupt=tuple(("audio", i) for i in range(200)))
    path = made(clip_dir, tmp_path, "all-audio-bad", spec)
    assert len(list(iter_frames(path))) == FRAMES  # the pictures are still there
    with pytest.raises(MediaError, match="no audio packet could be decoded"):
        load_audio(path)


def test_the_report_says_what_was_used() -> None:
    report = DamageReport(Path("/x/clip.avi"), "audio", skipped_packets=2, first_damage_s=0.61)
    assert report.message() == "clip.avi: audio: skipped 2 damaged packets, the first at 0.61 s; used the rest"
    cut = DamageReport(Path("clip.webm"), "video", stopped_at_s=1.3, expected_s=3.01)
    assert cut.message() == (
        "clip.webm: video: the readable part stops at 1.30 s of 3.01 s (truncated or damaged file); used the rest"
    )
    assert not DamageReport(Path("clip.mp4"), "video").damaged
