"""The audio modality's prosody heuristic: exact cues, the arousal direction it encodes, silence, real speech."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modalities.audio import ProsodyBaseline, prosody_cues, prosody_probabilities
from tools.expression.modality import InvalidProbabilitiesError
from tools.speech import Prosody, transcribe
from tools.speech.espeak import synthesize_speech

BASELINE = ProsodyBaseline(pitch_mean_hz=160.0, pitch_cv=0.15, energy_db=-25.0, words_per_s=2.5)


def prosody(pitch_hz: float | None, pitch_std_hz: float | None, energy_db: float, words_per_s: float | None) -> Prosody:
    """A segment's prosody as tools.speech measures it (syllable rate and voiced fraction are not used here)."""
    return Prosody(pitch_hz, pitch_std_hz, energy_db, words_per_s, syllables_per_s=None, voiced_fraction=0.5)


def test_cues_are_scaled_deviations_from_the_baseline() -> None:
    # One octave up, coefficient of variation 64/320 = 0.2, 6 dB louder, twice as fast.
    cues = prosody_cues(prosody(320.0, 64.0, -19.0, 5.0), BASELINE)
    assert cues == pytest.approx([math.tanh(2.0), math.tanh(0.5), math.tanh(1.0), math.tanh(2.0)], abs=1e-12)


def test_the_baseline_itself_is_neutral() -> None:
    at_baseline = prosody(160.0, 24.0, -25.0, 2.5)
    assert prosody_cues(at_baseline, BASELINE) == pytest.approx(np.zeros(4), abs=1e-12)
    result = prosody_probabilities(at_baseline, BASELINE)
    assert result.modality == "audio"
    assert result.source == "prosody-heuristic"
    assert result.top_label == "Neutral"


def test_low_quiet_slow_flat_speech_reads_as_sadness() -> None:
    assert prosody_probabilities(prosody(115.0, 6.0, -33.0, 1.4), BASELINE).top_label == "Sadness"


def test_high_loud_fast_variable_speech_reads_as_high_arousal() -> None:
    result = prosody_probabilities(prosody(260.0, 60.0, -16.0, 4.0), BASELINE)
    assert result.probabilities is not None
    assert result.top_label in {"Anger", "Happiness", "Surprise"}
    least_likely = BASIC_EMOTIONS[int(result.probabilities.argmin())]
    assert least_likely in {"Sadness", "Disgust"}  # the low-arousal prototypes


def test_silence_and_unmeasured_segments_are_missing_not_neutral() -> None:
    assert not prosody_probabilities(prosody(None, None, -80.0, None)).present
    assert not prosody_probabilities(prosody(None, None, -20.0, 0.0)).present
    whispered = prosody(None, None, -30.0, 2.5)
    assert prosody_probabilities(whispered).present  # no pitch, but a speaking rate: pitch cues are 0


def test_speaker_baseline_is_the_median_of_their_segments() -> None:
    segments = [prosody(200.0, 20.0, -20.0, 3.0), prosody(220.0, 44.0, -24.0, None), prosody(None, None, -30.0, 2.0)]
    baseline = ProsodyBaseline.from_segments(segments)
    # pitch: median of 200 and 220; CV: median of 0.1 and 0.2; energy: median of three; rate: median of 3 and 2
    assert (baseline.pitch_mean_hz, baseline.pitch_cv, baseline.energy_db, baseline.words_per_s) == (
        pytest.approx(210.0),
        pytest.approx(0.15),
        pytest.approx(-24.0),
        pytest.approx(2.5),
    )


def test_impossible_values_are_rejected() -> None:
    with pytest.raises(InvalidProbabilitiesError, match="pitch_mean_hz"):
        prosody_probabilities(prosody(-5.0, 1.0, -20.0, 2.0))
    with pytest.raises(InvalidProbabilitiesError, match="energy_db"):
        prosody_probabilities(prosody(150.0, 10.0, float("nan"), 2.0))


@pytest.mark.slow
def test_espeak_slow_low_and_fast_high_renderings_move_in_opposite_directions(tmp_path: Path) -> None:
    """Real synthetic speech: one sentence at 100 wpm / pitch 20 and at 220 wpm / pitch 80, transcribed by
    Whisper tiny.en with prosody; the speaker baseline is the median of the two renderings."""
    sentence = "I never thought the day would end like this, with everyone gone home."
    renderings = {}
    for name, words_per_minute, pitch in (("slow_low", 100, 20), ("fast_high", 220, 80)):
        path = synthesize_speech(sentence, tmp_path / f"{name}.wav", words_per_minute=words_per_minute, pitch=pitch)
        segments = transcribe(path).segments
        assert len(segments) == 1 and segments[0].prosody is not None, segments
        renderings[name] = segments[0].prosody
    baseline = ProsodyBaseline.from_segments(list(renderings.values()))
    slow = prosody_probabilities(renderings["slow_low"], baseline)
    fast = prosody_probabilities(renderings["fast_high"], baseline)
    assert slow.probabilities is not None and fast.probabilities is not None
    sadness = BASIC_EMOTIONS.index("Sadness")
    aroused = [BASIC_EMOTIONS.index(label) for label in ("Anger", "Fear", "Happiness", "Surprise")]
    assert slow.probabilities[sadness] > fast.probabilities[sadness] + 0.2, (slow.to_dict(), fast.to_dict())
    assert fast.probabilities[aroused].sum() > slow.probabilities[aroused].sum() + 0.2
    assert slow.top_label in {"Sadness", "Disgust"}
    assert fast.top_label in {"Anger", "Fear", "Happiness", "Surprise"}
