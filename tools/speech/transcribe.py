"""``transcribe``: any media file or sample array to a ``Transcript`` with words, voice activity and prosody.

Input checks, voice activity detection and prosody live here, once, so every backend sees the same speech regions
and silence never reaches Whisper (which would invent text for it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from tools.errors import MediaError, MediaTooLargeError
from tools.media import SPEECH_SAMPLE_RATE, load_audio
from tools.settings import Settings, get_settings
from tools.speech.backends import TRANSCRIBERS, check_language
from tools.speech.prosody import with_prosody
from tools.speech.types import Segment, Transcript
from tools.speech.vad import decoding_clips, detect_speech


def transcribe(
    source: str | Path | np.ndarray,
    *,
    backend: str | None = None,
    language: str | None = None,
    word_timestamps: bool = True,
    sample_rate: int = SPEECH_SAMPLE_RATE,
    prosody: bool = True,
    on_progress: Callable[[float], None] | None = None,
    settings: Settings | None = None,
) -> Transcript:
    """Transcribe a media file (audio, or video with an audio track) or mono samples (n,) at ``sample_rate`` Hz.

    ``backend`` names a ``TRANSCRIBERS`` entry (default ``MIEN_TRANSCRIBER``); ``language`` is a code such as "en"
    (None: detected by multilingual models). Silent or empty audio gives an empty transcript whose ``note`` says
    why. Images and videos without audio raise ``MediaError``. ``on_progress`` gets seconds decoded so far.
    """
    settings = settings or get_settings()
    name = backend or settings.transcriber
    if name not in TRANSCRIBERS.names():
        TRANSCRIBERS.build(name)  # raises ConfigError listing the known backends, before any decoding
    language = check_language(language, multilingual=True, backend=name)  # the code's shape; the backend checks more
    samples = _load_samples(source, sample_rate, settings)
    duration_s = samples.size / SPEECH_SAMPLE_RATE
    if samples.size == 0:
        return _empty(name, duration_s, None, "the audio track is empty: there is nothing to transcribe")
    regions = detect_speech(samples, settings.speech_vad)
    if not regions:
        silent = (
            f"no speech detected: the {settings.speech_vad} voice activity detector found none in {duration_s:.1f} s"
        )
        return _empty(name, duration_s, settings.speech_vad, silent)
    transcriber = TRANSCRIBERS.build(name)
    recognition = transcriber.recognize(
        samples,
        regions=decoding_clips(regions),
        language=language,
        word_timestamps=word_timestamps,
        on_progress=on_progress,
    )
    kept = without_hallucinations(recognition.segments)
    segments = with_prosody(samples, kept) if prosody else kept
    note = None if segments else "speech was detected but the model recognised no words in it"
    return Transcript(
        segments=segments,
        language=recognition.language,
        duration_s=duration_s,
        speech_regions=regions,
        model=f"{transcriber.name} ({transcriber.model})",
        language_probability=recognition.language_probability,
        vad=settings.speech_vad,
        note=note,
    )


NO_SPEECH_DROP = 0.9  # Whisper's own no-speech probability above which a segment's words are not believed


def without_hallucinations(segments: list[Segment]) -> list[Segment]:
    """The segments minus Whisper's usual inventions at the edge of speech: a segment Whisper itself is at least
    90% sure holds no speech (its "Thank you." on the tail of a clip), and a segment repeating the one before it
    word for word (a decoding loop). A rule with fixed thresholds, not a model; backends without the
    probabilities keep every segment that is not a repeat."""
    kept: list[Segment] = []
    for segment in segments:
        if segment.no_speech_prob is not None and segment.no_speech_prob >= NO_SPEECH_DROP:
            continue
        if kept and segment.text.strip().lower() == kept[-1].text.strip().lower():
            continue
        kept.append(segment)
    return kept


def _empty(backend: str, duration_s: float, vad: str | None, note: str) -> Transcript:
    return Transcript(
        segments=[], language=None, duration_s=duration_s, speech_regions=[], model=backend, vad=vad, note=note
    )


def _load_samples(source: str | Path | np.ndarray, sample_rate: int, settings: Settings) -> np.ndarray:
    """16 kHz mono float32 samples (n,) from a path (via ``tools.media``) or an array at ``sample_rate``."""
    if isinstance(source, str | Path):
        return load_audio(source, settings=settings)
    samples = np.asarray(source)
    if samples.ndim != 1:
        raise MediaError(f"audio samples must be mono with shape (n,), got shape {samples.shape}")
    if not np.issubdtype(samples.dtype, np.number):
        raise MediaError(f"audio samples must be numbers, got dtype {samples.dtype}")
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples / float(np.iinfo(samples.dtype).max)
    samples = samples.astype(np.float32)
    if not np.all(np.isfinite(samples)):
        raise MediaError("audio samples hold NaN or infinite values")
    if sample_rate <= 0:
        raise MediaError(f"sample rate must be positive, got {sample_rate}")
    if sample_rate != SPEECH_SAMPLE_RATE and samples.size:
        gcd = np.gcd(sample_rate, SPEECH_SAMPLE_RATE)
        samples = resample_poly(samples, SPEECH_SAMPLE_RATE // gcd, sample_rate // gcd).astype(np.float32)
    if samples.size / SPEECH_SAMPLE_RATE > settings.max_video_seconds:
        raise MediaTooLargeError(f"{samples.size / SPEECH_SAMPLE_RATE:.0f} s of audio is over MIEN_MAX_VIDEO_SECONDS")
    return np.clip(samples, -1.0, 1.0)
