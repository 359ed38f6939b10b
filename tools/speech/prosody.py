"""Prosody per segment: pitch (YIN), energy (RMS dB) and speaking rate, for the audio modality of affect.

Pitch uses the YIN estimator (de Cheveigné & Kawahara, 2002): the squared-difference function of each frame, its
cumulative-mean normalisation, the first dip under a threshold, and parabolic refinement of the lag. It is
computed with FFTs over many frames at once; frames too quiet or without a clear dip count as unvoiced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from tools.media import SPEECH_SAMPLE_RATE
from tools.speech.types import Prosody, Segment, Word

HOP_S = 0.01
"""Pitch and voicing are estimated every 10 ms."""


def pitch_track_hz(
    samples: np.ndarray,
    sample_rate: int = SPEECH_SAMPLE_RATE,
    *,
    fmin_hz: float = 60.0,
    fmax_hz: float = 500.0,
    window_s: float = 0.032,
    hop_s: float = HOP_S,
    threshold: float = 0.25,
    min_level_db: float = -50.0,
    min_frames: int = 3,
    chunk_frames: int = 2048,
) -> np.ndarray:
    """Fundamental frequency every ``hop_s`` seconds of mono samples (n,): float64 (frames,), NaN where unvoiced.

    Frame ``i`` starts at sample ``i * hop``; it is voiced when its YIN dip falls under ``threshold`` and its RMS
    is above ``min_level_db`` dBFS and within 40 dB of the loudest frame; voiced runs shorter than ``min_frames``
    are dropped.
    """
    x = np.asarray(samples, dtype=np.float64)
    window = round(window_s * sample_rate)
    max_lag = int(np.ceil(sample_rate / fmin_hz))
    min_lag = max(2, int(np.floor(sample_rate / fmax_hz)))
    hop = round(hop_s * sample_rate)
    n_frames = len(x) // hop if len(x) else 0
    if n_frames == 0:
        return np.zeros(0)
    span = window + max_lag
    padded = np.concatenate([x, np.zeros(span)])
    starts = np.arange(n_frames) * hop
    power = np.concatenate([[0.0], np.cumsum(np.square(padded))])
    level_db = 10.0 * np.log10((power[starts + window] - power[starts]) / window + 1e-12)
    gate_db = max(min_level_db, float(level_db.max()) - 40.0)
    f0 = np.full(n_frames, np.nan)
    for first in range(0, n_frames, chunk_frames):
        idx = np.arange(first, min(first + chunk_frames, n_frames))
        frames = padded[starts[idx, None] + np.arange(span)[None, :]]  # (f, span)
        cmnd = _cumulative_mean_normalized_difference(frames, window, max_lag)  # (f, max_lag + 1)
        f0[idx] = _pick_f0(cmnd, min_lag, max_lag, threshold, sample_rate)
    f0[level_db < gate_db] = np.nan
    return _drop_short_runs(f0, min_frames)


def _drop_short_runs(f0: np.ndarray, min_frames: int) -> np.ndarray:
    """Unvoice voiced runs shorter than ``min_frames``: real voicing lasts longer; blips are fricative noise."""
    voiced = np.concatenate([[False], np.isfinite(f0), [False]])
    edges = np.flatnonzero(np.diff(voiced.astype(np.int8)))
    out = f0.copy()
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start < min_frames:
            out[start:stop] = np.nan
    return out


def _cumulative_mean_normalized_difference(frames: np.ndarray, window: int, max_lag: int) -> np.ndarray:
    """YIN's d'(tau) for frames (f, window + max_lag), shape (f, max_lag + 1)."""
    n_fft = 1 << int(np.ceil(np.log2(frames.shape[1] + window)))
    head = frames[:, :window]
    # Cross term r(tau) = sum_j x_j x_{j+tau} over the integration window, by FFT correlation.
    cross = np.fft.irfft(np.fft.rfft(frames, n_fft) * np.conj(np.fft.rfft(head, n_fft)), n_fft)[:, : max_lag + 1]
    power = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(np.square(frames), axis=1)], axis=1)
    lags = np.arange(max_lag + 1)
    energy_head = power[:, window][:, None]
    energy_lagged = power[:, lags + window] - power[:, lags]
    difference = np.maximum(energy_head + energy_lagged - 2.0 * cross, 0.0)
    running = np.cumsum(difference[:, 1:], axis=1)
    cmnd = np.ones_like(difference)
    cmnd[:, 1:] = difference[:, 1:] * lags[1:] / np.maximum(running, 1e-12)
    return cmnd


def _pick_f0(cmnd: np.ndarray, min_lag: int, max_lag: int, threshold: float, sample_rate: int) -> np.ndarray:
    """First lag under ``threshold`` per frame, walked down to its local minimum and refined parabolically."""
    rows = np.arange(cmnd.shape[0])
    below = cmnd[:, min_lag:max_lag] < threshold
    voiced = below.any(axis=1)
    lag = np.argmax(below, axis=1) + min_lag
    for _ in range(max_lag):
        step = voiced & (lag + 1 < max_lag) & (cmnd[rows, np.minimum(lag + 1, max_lag)] < cmnd[rows, lag])
        if not step.any():
            break
        lag = lag + step
    left, centre, right = cmnd[rows, lag - 1], cmnd[rows, lag], cmnd[rows, np.minimum(lag + 1, max_lag)]
    curvature = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(curvature) > 1e-12, 0.5 * (left - right) / curvature, 0.0)
    refined = lag + np.clip(shift, -1.0, 1.0)
    return np.where(voiced, sample_rate / refined, np.nan)


_VOWEL_GROUP = re.compile(r"[aeiouy]+")


def count_syllables(word: str) -> int:
    """Syllables of an English word estimated from its spelling: vowel groups, less a silent final 'e'."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return 0
    groups = len(_VOWEL_GROUP.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups)


def segment_prosody(
    samples: np.ndarray,
    start_s: float,
    end_s: float,
    words: Sequence[Word] = (),
    sample_rate: int = SPEECH_SAMPLE_RATE,
) -> Prosody:
    """Prosody of ``samples[start_s:end_s]`` (mono, (n,)); speaking rate comes from the segment's words."""
    piece = np.asarray(samples[int(start_s * sample_rate) : int(np.ceil(end_s * sample_rate))], dtype=np.float64)
    f0 = pitch_track_hz(piece, sample_rate)
    voiced = f0[np.isfinite(f0)]
    voiced_fraction = float(voiced.size / f0.size) if f0.size else 0.0
    if voiced.size:
        # Octave (and worse) jumps are estimator errors, not intonation: leave them out of mean and spread.
        median = float(np.median(voiced))
        voiced = voiced[(voiced > median / 1.8) & (voiced < median * 1.8)]
    energy_db = float(10.0 * np.log10(np.mean(np.square(piece)) + 1e-12)) if piece.size else -120.0
    words_per_s = syllables_per_s = None
    spoken = [word for word in words if word.text.strip()]
    if spoken:
        span_s = spoken[-1].end_s - spoken[0].start_s
        if span_s > 0:
            words_per_s = len(spoken) / span_s
            syllables_per_s = sum(count_syllables(word.text) for word in spoken) / span_s
    return Prosody(
        pitch_mean_hz=float(np.mean(voiced)) if voiced.size else None,
        pitch_std_hz=float(np.std(voiced)) if voiced.size else None,
        energy_db=energy_db,
        words_per_s=words_per_s,
        syllables_per_s=syllables_per_s,
        voiced_fraction=voiced_fraction,
    )


def with_prosody(
    samples: np.ndarray, segments: Sequence[Segment], sample_rate: int = SPEECH_SAMPLE_RATE
) -> list[Segment]:
    """The segments with their ``prosody`` filled in from the 16 kHz samples (n,) they were decoded from."""
    return [
        replace(segment, prosody=segment_prosody(samples, segment.start_s, segment.end_s, segment.words, sample_rate))
        for segment in segments
    ]
