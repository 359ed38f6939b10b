"""The speech result types: one ``Transcript`` of timed segments and words, with prosody per segment.

Times are seconds from the start of the audio (or of the media's audio track). Every type has ``to_dict`` so that
a transcript goes to JSON, the agent and the evidence cache without further conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _round(value: float | None, decimals: int = 3) -> float | None:
    return None if value is None else round(float(value), decimals)


@dataclass(frozen=True)
class Word:
    """One recognised word: ``text`` as the model wrote it (leading space and punctuation stripped)."""

    start_s: float
    end_s: float
    text: str
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": _round(self.start_s),
            "end_s": _round(self.end_s),
            "text": self.text,
            "probability": _round(self.probability),
        }


@dataclass(frozen=True)
class SpeechRegion:
    """A stretch of audio that the voice activity detector took for speech."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": _round(self.start_s), "end_s": _round(self.end_s)}


@dataclass(frozen=True)
class Prosody:
    """How a segment was spoken, for the audio modality of affect recognition.

    Pitch is the fundamental frequency over voiced frames only (None when no frame is voiced); ``energy_db`` is the
    RMS level in dB relative to full scale over the segment; ``words_per_s`` counts recognised words over the span
    from the first word's start to the last word's end; ``syllables_per_s`` counts syllables estimated from the
    spelling (vowel groups) over the same span; ``voiced_fraction`` is the share of 10 ms frames that are voiced.
    """

    pitch_mean_hz: float | None
    pitch_std_hz: float | None
    energy_db: float
    words_per_s: float | None
    syllables_per_s: float | None
    voiced_fraction: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "pitch_mean_hz": _round(self.pitch_mean_hz, 1),
            "pitch_std_hz": _round(self.pitch_std_hz, 1),
            "energy_db": _round(self.energy_db, 1),
            "words_per_s": _round(self.words_per_s, 2),
            "syllables_per_s": _round(self.syllables_per_s, 2),
            "voiced_fraction": _round(self.voiced_fraction, 3),
        }


@dataclass(frozen=True)
class Segment:
    """One decoded stretch of speech (Whisper's segment) with its words and, when computed, its prosody.

    ``avg_logprob`` is the mean token log-probability and ``no_speech_prob`` Whisper's probability that the window
    holds no speech: low confidence and high no-speech together flag a likely hallucination.
    """

    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    prosody: Prosody | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": _round(self.start_s),
            "end_s": _round(self.end_s),
            "text": self.text,
            "words": [word.to_dict() for word in self.words],
            "avg_logprob": _round(self.avg_logprob),
            "no_speech_prob": _round(self.no_speech_prob),
            "prosody": None if self.prosody is None else self.prosody.to_dict(),
        }


@dataclass(frozen=True)
class Transcript:
    """What was said in a piece of audio, when, in which language, and by which model.

    ``speech_regions`` are the voice-activity regions that were decoded; ``note`` explains an empty or partial
    result (silent audio, an empty audio track) so that callers never have to guess why there is no text.
    """

    segments: list[Segment]
    language: str | None
    duration_s: float
    speech_regions: list[SpeechRegion]
    model: str
    language_probability: float | None = None
    vad: str | None = None
    note: str | None = None

    @property
    def text(self) -> str:
        """The whole transcript as one string."""
        return " ".join(segment.text for segment in self.segments if segment.text).strip()

    @property
    def words(self) -> list[Word]:
        """Every word of every segment, in time order."""
        return [word for segment in self.segments for word in segment.words]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "language_probability": _round(self.language_probability),
            "duration_s": _round(self.duration_s),
            "model": self.model,
            "vad": self.vad,
            "note": self.note,
            "speech_regions": [region.to_dict() for region in self.speech_regions],
            "segments": [segment.to_dict() for segment in self.segments],
        }
