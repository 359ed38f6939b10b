"""Prosody per segment: pitch (YIN), energy and speaking rate respond to how the sentence is spoken."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

from tests.speech.conftest import SENTENCE, Speak
from tools.media import load_audio
from tools.speech import Prosody, transcribe
from tools.speech.prosody import count_syllables, pitch_track_hz, segment_prosody

RATE = 16_000


def only_prosody(speak: Speak, name: str, words_per_minute: int, pitch: int) -> Prosody:
    transcript = transcribe(speak(SENTENCE, name, words_per_minute=words_per_minute, pitch=pitch))
    assert len(transcript.segments) == 1, transcript.segments
    prosody = transcript.segments[0].prosody
    assert prosody is not None
    return prosody


def pulse_vowel(f0_hz: float, seconds: float = 1.0) -> np.ndarray:
    """A glottal pulse train at ``f0_hz`` through two formant resonators (700 and 1200 Hz): a synthetic /a/."""
    n = int(seconds * RATE)
    pulses = np.zeros(n)
    pulses[(np.arange(0, seconds, 1.0 / f0_hz) * RATE).astype(int)] = 1.0
    signal = pulses
    for formant_hz, bandwidth_hz in ((700.0, 80.0), (1200.0, 90.0)):
        radius = np.exp(-np.pi * bandwidth_hz / RATE)
        theta = 2 * np.pi * formant_hz / RATE
        signal = lfilter([1.0], [1.0, -2 * radius * np.cos(theta), radius**2], signal)
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


@pytest.mark.slow
def test_slow_low_and_fast_high_renderings_differ_in_pitch_and_rate(speak: Speak) -> None:
    slow_low = only_prosody(speak, "slow.wav", words_per_minute=100, pitch=20)
    fast_high = only_prosody(speak, "fast.wav", words_per_minute=220, pitch=80)

    assert slow_low.pitch_mean_hz is not None and fast_high.pitch_mean_hz is not None
    # espeak-ng's pitch 20 vs 80 gave about 79 vs 139 Hz here; require at least a 1.4x gap.
    assert fast_high.pitch_mean_hz > 1.4 * slow_low.pitch_mean_hz, (slow_low, fast_high)
    # 220 vs 100 words per minute: about 2.2x; require 1.6x for words and syllables alike.
    assert slow_low.words_per_s is not None and fast_high.words_per_s is not None
    assert fast_high.words_per_s > 1.6 * slow_low.words_per_s, (slow_low, fast_high)
    assert slow_low.syllables_per_s is not None and fast_high.syllables_per_s is not None
    assert fast_high.syllables_per_s > 1.6 * slow_low.syllables_per_s
    # The slow rendering lasts at 100 wpm about 13 words / (100/60) = 7.8 s; its measured rate must fit that.
    assert 1.3 < slow_low.words_per_s < 3.2
    for prosody in (slow_low, fast_high):
        assert 0.2 < prosody.voiced_fraction < 0.9
        assert -40.0 < prosody.energy_db < -5.0


@pytest.mark.parametrize("f0_hz", [85.0, 120.0, 210.0, 330.0])
def test_pitch_of_a_pulse_train_vowel_is_its_f0(f0_hz: float) -> None:
    track = pitch_track_hz(pulse_vowel(f0_hz))
    voiced = track[np.isfinite(track)]
    assert voiced.size > 0.9 * track.size
    assert np.median(voiced) == pytest.approx(f0_hz, rel=0.01)


def test_silence_is_unvoiced_and_has_no_pitch() -> None:
    prosody = segment_prosody(np.zeros(RATE, dtype=np.float32), 0.0, 1.0)
    assert prosody.pitch_mean_hz is None and prosody.pitch_std_hz is None
    assert prosody.voiced_fraction == 0.0 and prosody.energy_db < -100
    assert prosody.words_per_s is None


def test_energy_follows_the_level_and_pitch_does_not(speak: Speak) -> None:
    audio = load_audio(speak(SENTENCE))
    loud = segment_prosody(audio, 0.0, len(audio) / RATE)
    quiet = segment_prosody(audio * 0.1, 0.0, len(audio) / RATE)
    assert loud.energy_db - quiet.energy_db == pytest.approx(20.0, abs=0.1)
    assert loud.pitch_mean_hz is not None and quiet.pitch_mean_hz is not None
    assert quiet.pitch_mean_hz == pytest.approx(loud.pitch_mean_hz, rel=0.02)


def test_sox_pitch_shift_raises_the_measured_pitch_by_its_ratio(speak: Speak, tmp_path: Path) -> None:
    original = speak(SENTENCE)
    shifted = tmp_path / "up.wav"
    subprocess.run(["sox", str(original), str(shifted), "pitch", "700"], check=True)  # +7 semitones: x1.498
    before = segment_prosody(load_audio(original), 0.0, 10.0)
    after = segment_prosody(load_audio(shifted), 0.0, 10.0)
    assert before.pitch_mean_hz is not None and after.pitch_mean_hz is not None
    assert after.pitch_mean_hz / before.pitch_mean_hz == pytest.approx(2 ** (7 / 12), rel=0.05)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("hello", 2), ("name", 1), ("Alice", 2), ("today.", 2), ("very", 2), ("afternoon", 3), ("I", 1), ("", 0)],
)
def test_syllables_are_estimated_from_spelling(word: str, syllables: int) -> None:
    assert count_syllables(word) == syllables
