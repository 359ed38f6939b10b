"""``analyze_emotions`` on files: a composed video in which a real face smiles and relaxes, images, bad input."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evals import samples
from evals.mesh_warps import smile_amount, smile_clip_frames
from tools.errors import MediaError
from tools.expression.analyze import analyze_emotions
from tools.expression.dynamics import dynamic_face_probabilities
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.timeline import plot_timeline
from tools.expression.types import EmotionAnalysis
from tools.media import write_video

HAPPY = BASIC_EMOTIONS.index("Happiness")
FPS = 5.0


@pytest.fixture(scope="module")
def smile_analysis(tmp_path_factory: pytest.TempPathFactory) -> EmotionAnalysis:
    """A 4 s clip at 5 fps: Monica (t1.jpg, left) smiles from 1.0 s (apex 1.6-2.6 s) back to neutral at 3.2 s,
    the astronaut (right) smiles throughout. Both faces stay still, so IoU tracking suffices (no embeddings).

    What this synthetic clip can test: the per-frame model responding to a mesh warp of a real face, tracks,
    per-track AU baselines, smoothing and change detection. What it cannot: real facial motion, head movement
    during an expression, lighting or blur."""
    path = tmp_path_factory.mktemp("expression") / "smile.mp4"
    write_video(path, smile_clip_frames(seconds=4.0, fps=FPS), FPS)
    return analyze_emotions(path, fps=FPS, embeddings=False)


def _by_person(analysis: EmotionAnalysis) -> tuple:
    left, right = sorted(analysis.timelines, key=lambda t: t.estimates[0].box.x0 if t.estimates[0].box else 0)
    return left, right


@pytest.mark.slow
def test_the_warped_smile_shows_up_in_the_left_persons_timeline(smile_analysis: EmotionAnalysis) -> None:
    assert smile_analysis.kind == "video" and len(smile_analysis.timelines) == 2
    monica, _ = _by_person(smile_analysis)
    assert len(monica.estimates) == 20
    times = monica.times_s
    happiness = monica.probabilities[:, HAPPY]
    apex = (times >= 1.6) & (times <= 2.6)
    rest = np.array([smile_amount(t) == 0.0 for t in times]) & ((times < 0.9) | (times > 3.3))
    assert happiness[apex].mean() > 0.6 and happiness[rest].max() < 0.3
    assert monica.dynamics is not None
    assert monica.dynamics.smoothed[apex, HAPPY].min() > 0.5


@pytest.mark.slow
def test_aus_are_relative_to_each_persons_own_neutral_face(smile_analysis: EmotionAnalysis) -> None:
    monica, astronaut = _by_person(smile_analysis)
    times = monica.times_s
    au12 = np.array([e.action_units.intensity("AU12") for e in monica.estimates])
    assert all(e.action_units.reference == "track-neutral" for e in monica.estimates)
    apex = (times >= 1.6) & (times <= 2.6)
    assert au12[apex].min() >= 2.0 and au12[times < 0.9].max() <= 0.5
    # The astronaut never looks neutral, so her smile is measured against the population, not against itself.
    assert all(e.action_units.reference == "population" for e in astronaut.estimates)
    assert min(e.action_units.intensity("AU12") for e in astronaut.estimates) >= 3.0
    assert min(e.probability("Happiness") for e in astronaut.estimates) > 0.95


@pytest.mark.slow
def test_dynamics_find_the_smiles_onset_and_offset(smile_analysis: EmotionAnalysis) -> None:
    monica, astronaut = _by_person(smile_analysis)
    change, times = monica.dynamics.change, monica.times_s
    onset = times[np.argmax(np.where(times < 2.1, change, 0.0))]
    offset = times[np.argmax(np.where(times > 2.1, change, 0.0))]
    assert 1.0 <= onset <= 1.8 and 2.6 <= offset <= 3.4
    assert astronaut.dynamics.change.max() < 0.05
    assert dynamic_face_probabilities(monica.dynamics, 1.6, 2.6).top_label == "Happiness"
    assert dynamic_face_probabilities(monica.dynamics, 0.0, 0.8).top_label == "Neutral"


@pytest.mark.slow
def test_the_video_timeline_png_has_a_panel_per_person(smile_analysis: EmotionAnalysis, tmp_path: Path) -> None:
    markers = [(0.2, "Hello there."), (1.5, "That is really funny!"), (2.9, "Anyway.")]
    out = plot_timeline(smile_analysis, tmp_path / "timeline.png", transcript=markers)
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width == 1210 and image.height > 450
    payload = smile_analysis.to_dict()
    assert payload["people"] == 2 and len(payload["tracks"][0]["estimates"]) == 20


def test_an_image_file_gives_one_single_frame_timeline_per_face() -> None:
    analysis = analyze_emotions(samples.group_photo_path())
    assert analysis.kind == "image" and len(analysis.timelines) == 6
    assert [t.estimates[0].top_label for t in analysis.timelines] == [
        "Neutral", "Neutral", "Happiness", "Happiness", "Neutral", "Happiness"]
    units = [t.estimates[0].action_units for t in analysis.timelines]
    assert all(u is not None and u.reference == "population" for u in units)


def test_an_image_without_faces_gives_no_timelines(tmp_path: Path) -> None:
    from skimage import data

    path = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(path)
    assert analyze_emotions(path).timelines == []


def test_audio_only_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16_000)
        handle.writeframes(np.zeros(16_000, dtype=np.int16).tobytes())
    with pytest.raises(MediaError, match="no faces"):
        analyze_emotions(path)
