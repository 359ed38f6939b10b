"""Temporal smoothing and dynamic features of one track (the dynamic-face modality), on crafted sequences."""

from __future__ import annotations

import numpy as np
import pytest

from tools.expression.dynamics import (
    change_score,
    compute_dynamics,
    dynamic_face_probabilities,
    rate_of_change,
    smooth_probabilities,
)
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.types import ActionUnits, AUEstimate, EmotionEstimate, ExpressionTimeline

NEUTRAL = np.eye(7)[0]
HAPPY = np.eye(7)[4]


def step_sequence(n: int = 20, switch: int = 10, fps: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Neutral for ``switch`` frames, then Happiness, one frame every 1/fps s."""
    times = np.arange(n) / fps
    probs = np.array([NEUTRAL if i < switch else HAPPY for i in range(n)])
    return times, probs


def test_smoothing_keeps_a_steady_expression_and_rows_on_the_simplex() -> None:
    times = np.arange(10) * 0.2
    steady = np.tile([0.1, 0.0, 0.0, 0.0, 0.8, 0.1, 0.0], (10, 1))
    assert np.allclose(smooth_probabilities(times, steady, 1.0), steady)
    _, probs = step_sequence()
    smoothed = smooth_probabilities(np.arange(20) / 10.0, probs, 1.0)
    assert np.allclose(smoothed.sum(axis=1), 1.0)
    assert smoothed[9, 4] == pytest.approx(1.0 - smoothed[10, 4])  # symmetric about the switch
    assert 0.0 < smoothed[9, 4] < 0.5 < smoothed[10, 4] < 1.0


def test_a_one_frame_flicker_is_damped() -> None:
    times = np.arange(11) * 0.1
    probs = np.tile(NEUTRAL, (11, 1))
    probs[5] = HAPPY
    smoothed = smooth_probabilities(times, probs, 1.0)
    assert smoothed[5, 4] < 0.25 and BASIC_EMOTIONS[int(smoothed[5].argmax())] == "Neutral"


def test_unscored_frames_are_filled_from_neighbours_but_not_across_long_gaps() -> None:
    times = np.array([0.0, 0.1, 0.2, 5.0])
    probs = np.array([HAPPY, [np.nan] * 7, HAPPY, NEUTRAL])
    smoothed = smooth_probabilities(times, probs, 1.0)
    assert np.allclose(smoothed[1], HAPPY)  # both neighbours happy
    assert np.allclose(smoothed[3], NEUTRAL)  # 4.8 s away from any other frame: its own value only
    lonely = smooth_probabilities(np.array([0.0, 3.0]), np.array([HAPPY, [np.nan] * 7]), 1.0)
    assert np.isnan(lonely[1]).all()


def test_rate_of_change_of_a_ramp_is_its_slope() -> None:
    times = np.array([0.0, 0.5, 1.0, 2.0])  # uneven spacing
    values = np.column_stack([0.3 * times, 1.0 - 0.3 * times])
    assert np.allclose(rate_of_change(times, values), [[0.3, -0.3]] * 4)
    assert np.allclose(rate_of_change(np.array([1.0]), np.ones((1, 2))), 0.0)


def test_change_score_is_one_at_a_clean_switch_and_zero_when_steady() -> None:
    times, probs = step_sequence()
    change = change_score(times, probs, 1.0)
    # Frame 10 is the first happy frame: the half-window before is all neutral, after all happy.
    assert change[10] == pytest.approx(1.0)
    assert change[0] == 0.0 and change[19] == 0.0  # one side empty
    assert change[3] == pytest.approx(0.0) and change[16] == pytest.approx(0.0)


def test_times_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="increasing"):
        smooth_probabilities(np.array([0.0, 1.0, 0.5]), np.tile(NEUTRAL, (3, 1)), 1.0)
    with pytest.raises(ValueError, match="one row per time"):
        smooth_probabilities(np.array([0.0, 1.0]), np.tile(NEUTRAL, (3, 1)), 1.0)


def _timeline(probs: np.ndarray, times: np.ndarray, au12: np.ndarray | None = None) -> ExpressionTimeline:
    estimates = []
    for i, (t, p) in enumerate(zip(times, probs, strict=True)):
        units = None
        if au12 is not None:
            units = ActionUnits((AUEstimate("AU12", "lip corner puller", float(au12[i])),), "geometric-estimate",
                                "mesh-geometry", "track-neutral")
        estimates.append(EmotionEstimate(p, "crafted", track_id=1, time_s=float(t), frame_index=i, action_units=units))
    return ExpressionTimeline(1, estimates)


def test_dynamics_of_a_timeline_include_au_rates() -> None:
    times, probs = step_sequence()
    dynamics = compute_dynamics(_timeline(probs, times, au12=np.linspace(0.0, 3.8, 20)), 1.0)
    assert dynamics.smoothed.shape == (20, 7) and dynamics.velocity_per_s.shape == (20, 7)
    assert dynamics.au_names == ("AU12",)
    assert dynamics.au_velocity_per_s is not None and np.allclose(dynamics.au_velocity_per_s, 2.0)
    assert dynamics.velocity_per_s[10, 4] > 0  # Happiness rising at the switch
    assert dynamics.top_labels[0] == "Neutral" and dynamics.top_labels[-1] == "Happiness"
    assert len(dynamics.to_dict()["frames"]) == 20


def test_segment_pooling_gives_the_dynamic_face_modality() -> None:
    times, probs = step_sequence()
    dynamics = compute_dynamics(_timeline(probs, times), 0.2)
    happy_part = dynamic_face_probabilities(dynamics, 1.2, 1.9)
    assert happy_part.modality == "dynamic_face" and happy_part.top_label == "Happiness"
    whole_mean = dynamic_face_probabilities(dynamics)
    whole_apex = dynamic_face_probabilities(dynamics, pooling="apex")
    assert whole_mean.probabilities is not None and whole_apex.probabilities is not None
    assert whole_mean.probabilities[4] == pytest.approx(0.5, abs=0.02)
    assert whole_apex.probabilities[4] > 0.95  # the expressive frames dominate
    assert not dynamic_face_probabilities(dynamics, 10.0, 11.0).present
