"""Linear prediction: per-frame LPC coefficients, their poles, and formant estimates from them.

Used by the McAdams voice anonymizer (which moves the poles) and to measure what it did (formant shifts).
"""

from __future__ import annotations

import numpy as np

from tools.media import SPEECH_SAMPLE_RATE


def frame_signal(samples: np.ndarray, frame_len: int, hop: int) -> np.ndarray:
    """Frames of ``frame_len`` samples every ``hop`` samples, shape (frames, frame_len); the tail is zero-padded."""
    x = np.asarray(samples, dtype=np.float64)
    n_frames = max(1, int(np.ceil(max(len(x) - frame_len, 0) / hop)) + 1)
    padded = np.concatenate([x, np.zeros((n_frames - 1) * hop + frame_len - len(x))])
    return padded[np.arange(n_frames)[:, None] * hop + np.arange(frame_len)[None, :]]


def lpc_coefficients(frames: np.ndarray, order: int) -> np.ndarray:
    """LPC polynomials A(z) = 1 + a1 z^-1 + ... of windowed frames (f, n), shape (f, order + 1).

    Autocorrelation method with Levinson-Durbin recursion, all frames at once. A tiny white-noise floor on r(0)
    keeps the recursion stable on near-silent frames; an all-zero frame gets A(z) = 1.
    """
    frames = np.asarray(frames, dtype=np.float64)
    n = frames.shape[1]
    spectrum = np.fft.rfft(frames, 1 << int(np.ceil(np.log2(2 * n))))
    r = np.fft.irfft(np.abs(spectrum) ** 2)[:, : order + 1]
    r[:, 0] = r[:, 0] * (1.0 + 1e-9) + 1e-12
    a = np.zeros((frames.shape[0], order + 1))
    a[:, 0] = 1.0
    error = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = r[:, i] + np.sum(a[:, 1:i] * r[:, i - 1 : 0 : -1], axis=1)
        k = -acc / error
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
        a[:, i] = k
        error = error * (1.0 - k * k)
    return a


def lpc_poles(a: np.ndarray) -> np.ndarray:
    """Roots of each LPC polynomial (f, order + 1) as complex (f, order), via companion-matrix eigenvalues."""
    order = a.shape[1] - 1
    companion = np.zeros((a.shape[0], order, order))
    companion[:, 0, :] = -a[:, 1:]
    companion[:, np.arange(1, order), np.arange(order - 1)] = 1.0
    return np.linalg.eigvals(companion)


def formant_track_hz(
    samples: np.ndarray,
    sample_rate: int = SPEECH_SAMPLE_RATE,
    *,
    n_formants: int = 3,
    frame_s: float = 0.025,
    hop_s: float = 0.01,
    max_bandwidth_hz: float = 400.0,
    min_level_db: float = -40.0,
) -> np.ndarray:
    """Formant frequencies F1..Fn per frame, shape (frames, n_formants), NaN where not found or too quiet.

    Standard LPC recipe: pre-emphasis, Hamming window, order 2 + kHz, poles in the upper half plane with a
    bandwidth under ``max_bandwidth_hz`` and a frequency over 90 Hz, sorted by frequency.
    """
    x = np.asarray(samples, dtype=np.float64)
    emphasized = np.append(x[:1], x[1:] - 0.97 * x[:-1])
    frame_len, hop = int(frame_s * sample_rate), int(hop_s * sample_rate)
    frames = frame_signal(emphasized, frame_len, hop) * np.hamming(frame_len)
    level_db = 10.0 * np.log10(np.mean(np.square(frame_signal(x, frame_len, hop)), axis=1) + 1e-12)
    loud = level_db > max(min_level_db, float(level_db.max()) - 35.0)
    out = np.full((frames.shape[0], n_formants), np.nan)
    if not loud.any():
        return out
    poles = lpc_poles(lpc_coefficients(frames[loud], 2 + sample_rate // 1000))
    frequency_hz = np.angle(poles) * sample_rate / (2.0 * np.pi)
    bandwidth_hz = -np.log(np.maximum(np.abs(poles), 1e-12)) * sample_rate / np.pi
    keep = (poles.imag > 0) & (frequency_hz > 90.0) & (bandwidth_hz < max_bandwidth_hz)
    candidates = np.sort(np.where(keep, frequency_hz, np.inf), axis=1)[:, :n_formants]
    out[loud] = np.where(np.isfinite(candidates), candidates, np.nan)
    return out
