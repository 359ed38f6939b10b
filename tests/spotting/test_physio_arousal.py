"""The body as a modality: EEG alpha power, the autonomic-arousal heuristic, the fused spotting score, and the
physiology modality of compound-emotion fusion, on signals synthesized here with known events."""

from __future__ import annotations

import numpy as np
import pytest

from tests.spotting.test_physio import EVENT_S, channels, interval
from tools.expression.cer import recognize_compound
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modalities.physiology import arousal_probabilities
from tools.expression.modality import InvalidProbabilitiesError, ModalityProbabilities
from tools.spotting.physio import Channel, Signals, autonomic_arousal, clip_arousal, interval_features
from tools.spotting.physio.features import attach_physiology
from tools.spotting.types import SpottingResult


def eeg(rate_hz: float = 256.0, seconds: float = 40.0) -> Channel:
    """10 Hz alpha whose amplitude halves at EVENT_S (power to a quarter), over 25 Hz beta and a little noise."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    alpha = np.where(t < EVENT_S, 1.0, 0.5) * np.sin(2 * np.pi * 10.0 * t)
    rng = np.random.default_rng(0)
    beta = 0.3 * np.sin(2 * np.pi * 25.0 * t)
    return Channel("EEG Oz", "EEG", rate_hz, 0.0, alpha + beta + 0.05 * rng.normal(size=len(t)))


def test_eeg_alpha_desynchronisation_is_measured() -> None:
    at_event = interval_features(interval(), Signals("synthetic", [eeg()]))
    assert at_event["eeg_alpha_ratio"] == pytest.approx(0.25, abs=0.03)
    far = interval_features(interval(8.0, 8.3), Signals("synthetic", [eeg()]))
    assert far["eeg_alpha_ratio"] == pytest.approx(1.0, abs=0.1)


def test_eeg_sampled_too_slowly_for_alpha_gives_no_feature() -> None:
    slow = Channel("EEG", "EEG", 20.0, 0.0, np.zeros(800))
    assert "eeg_alpha_ratio" not in interval_features(interval(), Signals("synthetic", [slow]))


def test_arousal_ramps_on_hand_made_features() -> None:
    estimate = autonomic_arousal({"eda_rise": 0.2, "hr_change_bpm": -6.0, "skt_change": 1.0})
    assert estimate.cues == pytest.approx({"eda_rise": 0.368421, "hr_change_bpm": 0.5}, abs=1e-6)
    assert estimate.score == pytest.approx(0.4342, abs=1e-4) and not estimate.responded
    assert autonomic_arousal({"rsp_amplitude_ratio": 0.5, "eeg_alpha_ratio": 0.4}).score == 1.0
    assert autonomic_arousal({"skt_change": 0.3}).score is None  # skin temperature is too slow to be a cue


def test_the_body_raises_the_score_of_the_interval_it_answered() -> None:
    body = Signals("synthetic", [*channels(), eeg()])
    result = SpottingResult("clip.mp4", 30.0, 1200, 40.0, "test")
    result.intervals.extend([interval(), interval(8.0, 8.3)])
    answered, quiet = attach_physiology(result, body).intervals
    assert answered.arousal == 1.0 and answered.fused_score == pytest.approx(3.0)  # face score 2.0 x 1.5
    assert quiet.arousal is not None and quiet.arousal < 0.15
    assert quiet.fused_score == pytest.approx(2.0 * (1.0 + 0.5 * (2 * quiet.arousal - 1.0)))
    # The clip's first 5 s against 5-40 s: heart, EDA and breathing saturate; the alpha power of 5-40 s mixes
    # 15 s at full and 20 s at a quarter power, (15 + 5) / 35 = 0.571, a cue of (1 / 0.571 - 1.2) / 0.8 = 0.6875.
    assert clip_arousal(body, 40.0) == pytest.approx((3 + 0.6875) / 4, abs=0.02)
    assert clip_arousal(body, 2.0) is None


def test_the_physiology_modality_is_valence_blind_arousal() -> None:
    aroused = arousal_probabilities(0.9).probabilities
    calm = arousal_probabilities(0.2).probabilities
    assert aroused is not None and calm is not None
    assert {BASIC_EMOTIONS[i] for i in np.argsort(aroused)[-3:]} == {"Anger", "Fear", "Surprise"}
    assert {BASIC_EMOTIONS[i] for i in np.argsort(calm)[-2:]} == {"Neutral", "Sadness"}
    assert arousal_probabilities(None).probabilities is None
    with pytest.raises(InvalidProbabilitiesError, match="arousal must be in"):
        arousal_probabilities(1.5)


def test_fusion_moves_an_ambiguous_face_toward_the_aroused_reading() -> None:
    # A face torn between Sadness and Fear: the body's arousal decides.
    face = ModalityProbabilities.from_mapping(
        "static_face", {"Neutral": 0.1, "Anger": 0.0, "Disgust": 0.0, "Fear": 0.4, "Happiness": 0.05,
                        "Sadness": 0.4, "Surprise": 0.05})
    aroused = recognize_compound([face, arousal_probabilities(0.95)]).fused
    calm = recognize_compound([face, arousal_probabilities(0.15)]).fused
    assert "physiology" in aroused.present
    fear, sadness = BASIC_EMOTIONS.index("Fear"), BASIC_EMOTIONS.index("Sadness")
    assert aroused.probabilities[fear] > aroused.probabilities[sadness]
    assert calm.probabilities[sadness] > calm.probabilities[fear]
