"""The emotion timeline PNG, drawn from crafted timelines (no model involved)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tools.expression.dynamics import compute_dynamics
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.timeline import EMOTION_COLOURS, plot_timeline
from tools.expression.types import EmotionEstimate, ExpressionTimeline


def crafted_timeline(track_id: int, frames: int = 30, skip: tuple[int, ...] = ()) -> ExpressionTimeline:
    """Neutral turning to Happiness halfway, 10 frames per second; frames in ``skip`` were not scored."""
    estimates = []
    for i in range(frames):
        happy = 1.0 / (1.0 + np.exp(-(i - frames / 2)))
        p = np.zeros(7)
        p[0], p[4] = 1.0 - happy, happy
        estimates.append(EmotionEstimate(None if i in skip else p, "crafted", track_id, i / 10.0, i,
                                         skipped_reason="face too small" if i in skip else None))
    timeline = ExpressionTimeline(track_id, estimates)
    timeline.dynamics = compute_dynamics(timeline, 1.0)
    return timeline


def _colour_present(image: Image.Image, hex_colour: str) -> bool:
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(rgb - target).sum(axis=1) < 30).sum() > 200)


def test_a_video_timeline_draws_every_person_with_transcript_markers(tmp_path: Path) -> None:
    markers = [(0.5, "Hello, nice to meet you."), (1.6, "That is very funny, I must say, really " * 3)]
    out = plot_timeline([crafted_timeline(1), crafted_timeline(2, skip=(3, 4))], tmp_path / "t.png", markers, "demo")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1210, round((2.3 * 2 + 0.55 + 0.4) * 110))
        assert _colour_present(image, EMOTION_COLOURS["Happiness"])
        assert _colour_present(image, EMOTION_COLOURS["Neutral"])


def test_a_still_image_is_drawn_as_bars_per_person(tmp_path: Path) -> None:
    still = crafted_timeline(1, frames=1)
    skipped = crafted_timeline(2, frames=1, skip=(0,))
    out = plot_timeline([still, skipped], tmp_path / "still.png")
    with Image.open(out) as image:
        assert image.size == (1210, round((1.9 * 2 + 0.2 + 0.4) * 110))


def test_no_person_gives_a_plot_that_says_so_and_the_suffix_is_png(tmp_path: Path) -> None:
    out = plot_timeline([], tmp_path / "empty.jpg")
    assert out.suffix == ".png" and out.is_file()
    assert len(BASIC_EMOTIONS) == len(EMOTION_COLOURS)
