"""Voice activity detection: which stretches of the audio hold speech.

Whisper invents text on silence, so only the regions found here are decoded. Two detectors:

- ``silero``: the Silero VAD network that ships inside faster-whisper (``faster_whisper/assets/silero_vad_v6.onnx``,
  run with onnxruntime, offline).
- ``energy``: a frame-energy gate relative to the audio's own noise floor, with hangover; no model at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.errors import ConfigError, ModelUnavailableError
from tools.media import SPEECH_SAMPLE_RATE
from tools.speech.types import SpeechRegion

SILENCE_DBFS = -55.0
"""Frames quieter than this (RMS, dB re full scale) are never speech, whatever the detector says."""


def silero_model_path() -> Path | None:
    """The Silero VAD ONNX file bundled with faster-whisper, or None if faster-whisper is missing."""
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError:
        return None
    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    return path if path.is_file() else None


def detect_speech(samples: np.ndarray, method: str = "silero") -> list[SpeechRegion]:
    """Speech regions of 16 kHz mono float32 samples, shape (n,), in time order and not overlapping."""
    if samples.size == 0 or _peak_dbfs(samples) < SILENCE_DBFS:
        return []
    if method == "silero":
        return _silero_regions(samples)
    if method == "energy":
        return energy_regions(samples)
    raise ConfigError(f"unknown voice activity detector {method!r}; known: silero, energy")


def _peak_dbfs(samples: np.ndarray) -> float:
    frame = int(0.03 * SPEECH_SAMPLE_RATE)
    usable = samples[: len(samples) // frame * frame].reshape(-1, frame) if len(samples) >= frame else samples[None]
    rms = np.sqrt(np.mean(np.square(usable, dtype=np.float64), axis=1))
    return float(20.0 * np.log10(rms.max() + 1e-12))


def _silero_regions(samples: np.ndarray) -> list[SpeechRegion]:
    if silero_model_path() is None:
        raise ModelUnavailableError("Silero VAD not found in faster-whisper's assets; set MIEN_SPEECH_VAD=energy")
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # Shorter silences than faster-whisper's 2 s default, so that regions follow pauses between sentences.
    options = VadOptions(min_silence_duration_ms=500, speech_pad_ms=200)
    chunks = get_speech_timestamps(np.ascontiguousarray(samples, dtype=np.float32), options, SPEECH_SAMPLE_RATE)
    return [SpeechRegion(c["start"] / SPEECH_SAMPLE_RATE, c["end"] / SPEECH_SAMPLE_RATE) for c in chunks]


def energy_regions(
    samples: np.ndarray,
    *,
    frame_s: float = 0.03,
    hop_s: float = 0.01,
    margin_db: float = 15.0,
    min_speech_s: float = 0.15,
    min_silence_s: float = 0.4,
    pad_s: float = 0.15,
) -> list[SpeechRegion]:
    """Regions whose frame RMS is ``margin_db`` above the noise floor (10th percentile of frame levels).

    Gaps shorter than ``min_silence_s`` are bridged, regions shorter than ``min_speech_s`` dropped, and each region
    padded by ``pad_s`` so that soft onsets and word endings are kept.
    """
    frame, hop = int(frame_s * SPEECH_SAMPLE_RATE), int(hop_s * SPEECH_SAMPLE_RATE)
    if len(samples) < frame:
        return []
    windows = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float64), frame)[::hop]
    level_db = 10.0 * np.log10(np.mean(np.square(windows), axis=1) + 1e-12)
    threshold_db = max(SILENCE_DBFS, float(np.percentile(level_db, 10)) + margin_db)
    active = level_db > threshold_db
    regions: list[list[int]] = []
    for index in np.flatnonzero(active):
        if regions and index - regions[-1][1] <= min_silence_s / hop_s:
            regions[-1][1] = int(index)
        else:
            regions.append([int(index), int(index)])
    duration_s = len(samples) / SPEECH_SAMPLE_RATE
    out: list[SpeechRegion] = []
    for first, last in regions:
        start_s, end_s = first * hop_s, last * hop_s + frame_s
        if end_s - start_s >= min_speech_s:
            out.append(SpeechRegion(max(0.0, start_s - pad_s), min(duration_s, end_s + pad_s)))
    return out


def decoding_clips(regions: list[SpeechRegion], max_gap_s: float = 2.0) -> list[SpeechRegion]:
    """Speech regions joined across pauses shorter than ``max_gap_s``: the clips Whisper decodes.

    Whisper encodes a full 30 s window for every clip, so decoding each sentence on its own costs one encoder
    pass per sentence; joined, a clip costs one pass per 30 s. Longer silences stay out, where Whisper would invent
    words.
    """
    clips: list[SpeechRegion] = []
    for region in regions:
        if clips and region.start_s - clips[-1].end_s < max_gap_s:
            clips[-1] = SpeechRegion(clips[-1].start_s, region.end_s)
        else:
            clips.append(region)
    return clips
