"""De-identifying videos composed from real photos, with real (espeak-ng) speech.

Every frame of the written file is decoded and searched with our detector (mediapipe, built separately, at 0.3;
the faces were found at 0.35 and mediapipe's legacy graph reports nothing under 0.5, so both act as 0.5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.clips import pan_zoom_clip
from tests.deidentify.test_faces import detail_kept
from tests.media import badfiles
from tools.deidentify import DeidentifyReport, FaceMaskStyle, anonymize_voice, deidentify_video
from tools.deidentify.hiding import FaceHider
from tools.errors import ConfigError, MediaError
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.faces.types import Face
from tools.media import iter_frames, load_audio, probe_media
from tools.settings import Settings
from tools.speech.espeak import synthesize_speech

SENTENCE = "Hello, my name is Alice and I am happy to see you."


@pytest.fixture(scope="module")
def checker() -> MediapipeDetector:
    return MediapipeDetector(min_score=0.3)


@pytest.fixture(scope="module")
def talking_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 10 fps, 640x360: the astronaut panning and zooming in while espeak-ng speaks (mono AAC)."""
    folder = tmp_path_factory.mktemp("talking")
    speech = load_audio(synthesize_speech(SENTENCE, folder / "speech.wav"))
    return pan_zoom_clip(folder / "talking.mp4", seconds=3.0, fps=10.0, audio=speech)


@pytest.fixture(scope="module")
def deidentified(talking_clip: Path) -> tuple[Path, DeidentifyReport]:
    out = talking_clip.with_name("talking-deid.mp4")
    return out, deidentify_video(talking_clip, out, progress=False)


def faces_per_frame(path: Path, detector: MediapipeDetector) -> list[int]:
    return [len(detector.detect(frame.image)) for frame in iter_frames(path)]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(a.size, b.size)
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


@pytest.mark.slow
def test_no_frame_of_the_written_clip_shows_a_face(
    talking_clip: Path, deidentified: tuple[Path, DeidentifyReport], checker: MediapipeDetector
) -> None:
    assert faces_per_frame(talking_clip, MediapipeDetector(min_score=0.5)) == [1] * 30  # a face on every frame
    out, report = deidentified
    assert faces_per_frame(out, checker) == [0] * 30
    assert report.frames_flagged == 0


@pytest.mark.slow
def test_the_clip_keeps_its_frame_count_duration_and_size(
    talking_clip: Path, deidentified: tuple[Path, DeidentifyReport]
) -> None:
    out, report = deidentified
    source, written = probe_media(talking_clip), probe_media(out)
    assert sum(1 for _ in iter_frames(out)) == sum(1 for _ in iter_frames(talking_clip)) == 30
    assert written.duration_s == pytest.approx(source.duration_s, abs=0.05)
    assert (written.width, written.height, written.fps) == (source.width, source.height, source.fps)
    assert report.frames_written == 30 and report.fps == 10.0 and report.duration_s == pytest.approx(3.0)


@pytest.mark.slow
def test_the_audio_is_kept_and_the_voice_anonymized(
    talking_clip: Path, deidentified: tuple[Path, DeidentifyReport]
) -> None:
    out, report = deidentified
    assert report.audio == "anonymized" and report.audio_anonymized
    original, written = load_audio(talking_clip), load_audio(out)
    assert probe_media(out).has_audio and written.size == pytest.approx(original.size, rel=0.05)
    assert np.sqrt(np.mean(written**2)) > 0.3 * np.sqrt(np.mean(original**2))  # speech, not silence
    # The track is the McAdams-anonymized voice, not the original one.
    assert correlation(written, anonymize_voice(original, 16_000)) > 0.95
    assert correlation(written, original) < 0.5


@pytest.mark.slow
def test_the_report_counts_what_was_hidden(deidentified: tuple[Path, DeidentifyReport]) -> None:
    _, report = deidentified
    assert report.kind == "video" and report.mode == "blur"
    # The privacy ensemble hides every region any member reports, false alarms included (a mirrored-pass face under
    # the chin on its full scans): the one real face is found on every frame, and extra regions only add to it.
    assert report.frames_with_faces == 30 and report.faces_detected >= 30 and report.tracks >= 1
    held = report.boxes_interpolated + report.boxes_held  # the tracking bridges the regions seen on full scans only
    assert report.faces_hidden == report.faces_detected + held + report.residual_faces
    payload = report.to_dict()
    assert payload["audio_anonymized"] is True and payload["frames_per_s"] > 0


@pytest.mark.slow
def test_two_people_crossing_are_hidden_on_every_frame(
    crossing_clip: Path, tmp_path: Path, checker: MediapipeDetector
) -> None:
    report = deidentify_video(crossing_clip, tmp_path / "crossing.mp4", mode="mask", progress=False)
    assert faces_per_frame(tmp_path / "crossing.mp4", checker) == [0] * 40
    assert report.audio == "none" and not probe_media(tmp_path / "crossing.mp4").has_audio
    assert report.frames_written == 40


@pytest.mark.slow
def test_a_lower_output_rate_and_the_original_voice(
    talking_clip: Path, tmp_path: Path, checker: MediapipeDetector
) -> None:
    out = tmp_path / "five-fps.mp4"
    report = deidentify_video(talking_clip, out, mode="pixelate", voice=False, fps=5.0, progress=False)
    assert report.frames_written == 15 and probe_media(out).fps == 5.0
    assert faces_per_frame(out, checker) == [0] * 15
    assert report.audio == "original"
    assert correlation(load_audio(out), load_audio(talking_clip)) > 0.95


class MissingDetector:
    """Our detector, made to miss every face on some frames (counted by call, one call per frame)."""

    name = "mediapipe-with-misses"

    def __init__(self, missed_frames: set[int]) -> None:
        self.inner = MediapipeDetector(min_score=0.5)
        self.missed_frames = missed_frames
        self.calls = 0

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        index, self.calls = self.calls, self.calls + 1
        return [] if index in self.missed_frames else self.inner.detect(image_rgb)


@pytest.mark.slow
def test_frames_where_the_detector_misses_are_still_hidden(pan_clip: Path, tmp_path: Path) -> None:
    missed = {10, 11, 12, 13, 25}
    true_boxes = [MediapipeDetector(min_score=0.5).detect(frame.image)[0].box for frame in iter_frames(pan_clip)]
    source = [frame.image for frame in iter_frames(pan_clip)]

    def detail_on_missed_frames(settings: Settings, name: str) -> list[float]:
        # No re-search of the written file here: this tests the tracking alone.
        hider = FaceHider(FaceMaskStyle(), MissingDetector(missed), residual=None)
        report = deidentify_video(pan_clip, tmp_path / name, hider=hider, progress=False, settings=settings)
        written = [frame.image for frame in iter_frames(tmp_path / name)]
        assert report.frames_written == len(source) == 40
        return [detail_kept(source[i], written[i], true_boxes[i]) for i in sorted(missed)]

    tracked = detail_on_missed_frames(Settings(), "tracked.mp4")
    untracked = detail_on_missed_frames(Settings(deidentify_max_gap_frames=0, deidentify_hold_frames=0), "raw.mp4")
    assert max(tracked) < 0.1  # interpolated boxes hid the face
    assert min(untracked) > 0.5  # without tracking, the face on those frames stays visible


def test_corrupt_input_gives_a_clear_error_and_no_output(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(MediaError, match=r"garbage\.mp4"):
        deidentify_video(garbage, tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.mp4"]


def test_a_truncated_video_gives_a_clear_error_and_no_output(pan_clip: Path, tmp_path: Path) -> None:
    cut = badfiles.truncated_copy(pan_clip, tmp_path / "cut.mp4")
    with pytest.raises(MediaError, match="truncated"):
        deidentify_video(cut, tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4"]


def test_wrong_kinds_of_input_and_output_are_refused(pan_clip: Path, tmp_path: Path) -> None:
    from evals.samples import tom_hanks_path

    with pytest.raises(MediaError, match="not a video"):
        deidentify_video(tom_hanks_path(), tmp_path / "out.mp4", progress=False)
    with pytest.raises(ConfigError, match=r"\.mp4"):
        deidentify_video(pan_clip, tmp_path / "out.avi", progress=False)
    with pytest.raises(ConfigError, match="overwrite the input"):
        deidentify_video(pan_clip, pan_clip, progress=False)
    with pytest.raises(ConfigError, match="unknown anonymization mode"):
        deidentify_video(pan_clip, tmp_path / "out.mp4", mode="smear", progress=False)
    assert list(tmp_path.iterdir()) == []
