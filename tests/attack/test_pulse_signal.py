"""POS on colour traces whose content is known: a pulse tint over skin colour with intensity drift and noise."""

from __future__ import annotations

import numpy as np
import pytest

from tools.attack.pulse import estimate_pulse, pos_signal

SKIN = np.array([170.0, 120.0, 100.0])
PULSE_WEIGHTS = np.array([0.33, 0.77, 0.53])


def trace(bpm: float | None, seconds: float = 10.0, fps: float = 15.0, seed: int = 0) -> np.ndarray:
    """Mean skin RGB per frame: a pulse (0.5 % in green), a slow brightness swing (head motion under a lamp:
    the same factor on all channels, 3 %) and sensor noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fps)) / fps
    brightness = 1.0 + 0.03 * np.sin(2 * np.pi * 0.3 * t)
    pulse = 0.0 if bpm is None else 0.005 * np.sin(2 * np.pi * bpm / 60 * t)[:, None] * PULSE_WEIGHTS / 0.77
    return SKIN * brightness[:, None] * (1 + pulse) + rng.normal(0, 0.15, (len(t), 3))


@pytest.mark.parametrize("bpm", [50.0, 72.0, 100.0, 150.0])
def test_recovers_the_rate_through_brightness_changes(bpm: float) -> None:
    estimate = estimate_pulse(trace(bpm), 15.0)
    assert estimate.detected
    assert estimate.bpm == pytest.approx(bpm, abs=2.0)


def test_pos_cancels_a_pure_brightness_change() -> None:
    # the same factor on R, G and B lies along the skin tone, which POS projects away
    t = np.arange(150) / 15.0
    brightness = SKIN * (1.0 + 0.05 * np.sin(2 * np.pi * 1.2 * t))[:, None]
    assert np.abs(pos_signal(brightness, 15.0)).max() < 1e-9


def test_no_pulse_in_noise_and_drift_alone() -> None:
    for seed in range(3):
        estimate = estimate_pulse(trace(None, seed=seed), 15.0)
        assert not estimate.detected and estimate.bpm is None


def test_too_short_or_too_slow_is_not_measured() -> None:
    short = estimate_pulse(trace(72.0, seconds=2.0), 15.0)
    assert not short.detected and short.bpm is None and short.seconds == pytest.approx(2.0)
    slow = estimate_pulse(trace(72.0, fps=5.0), 5.0)
    assert not slow.detected
