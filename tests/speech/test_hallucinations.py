"""Whisper's inventions at the edge of speech are dropped: the values are those tiny.en gave on the shipped example
clip's last half second ("Thank you." twice after the speech ended)."""

from __future__ import annotations

from tools.speech.transcribe import without_hallucinations
from tools.speech.types import Segment


def test_no_speech_tails_and_repeats_are_dropped() -> None:
    segments = [
        Segment(0.0, 6.8, "Hello. It is wonderful to be back on Earth.", avg_logprob=-0.37, no_speech_prob=0.06),
        Segment(6.8, 7.4, "will time.", avg_logprob=-0.99, no_speech_prob=0.48),
        Segment(7.4, 7.44, "Thank you.", avg_logprob=-0.91, no_speech_prob=0.93),
        Segment(7.44, 7.84, "Thank you.", avg_logprob=-0.71, no_speech_prob=0.905),
    ]
    assert [s.text for s in without_hallucinations(segments)] == [
        "Hello. It is wonderful to be back on Earth.", "will time."]


def test_a_repeat_is_dropped_even_without_probabilities() -> None:
    segments = [Segment(0.0, 1.0, "Thank you."), Segment(1.0, 2.0, " thank you."), Segment(2.0, 3.0, "Goodbye.")]
    assert [s.text for s in without_hallucinations(segments)] == ["Thank you.", "Goodbye."]
