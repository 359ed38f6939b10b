"""Voice anonymization with the McAdams coefficient (as in DEEMO and the VoicePrivacy challenge baseline).

Each short frame is split by linear prediction into a vocal-tract filter 1/A(z) and a residual (the excitation).
The filter's complex poles, at angles phi in (0, pi), are moved to phi ** alpha with their radius kept, so the
formants — the resonances that carry much of a speaker's identity — shift: up below 1 rad (2.5 kHz at 16 kHz) and
down above it for alpha < 1. The residual, which carries pitch and timing, is passed through the new filter and the
frames are overlap-added. No model, no training data; alpha = 1 gives back the input.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from tools.errors import ConfigError, MediaError
from tools.settings import get_settings
from tools.speech.lpc import frame_signal, lpc_coefficients, lpc_poles


def anonymize_voice(
    samples: np.ndarray,
    sample_rate: int,
    alpha: float | None = None,
    *,
    lpc_order: int = 20,
    frame_s: float = 0.02,
) -> np.ndarray:
    """The voice in mono ``samples`` (n,), float in [-1, 1], with its formants warped by the McAdams ``alpha``.

    ``alpha`` defaults to ``MIEN_VOICE_MCADAMS_ALPHA`` (0.8). Frames of ``frame_s`` seconds, Hann-windowed at 50%
    overlap (which sums to one, so the frames add back exactly); the result is scaled to the input's overall RMS.
    Returns float32 of the same length, clipped to [-1, 1].
    """
    alpha = get_settings().voice_mcadams_alpha if alpha is None else float(alpha)
    if not 0.0 < alpha <= 2.0:
        raise ConfigError(f"McAdams alpha must be in (0, 2], got {alpha} (MIEN_VOICE_MCADAMS_ALPHA)")
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise MediaError(f"voice anonymization takes mono samples of shape (n,), got shape {x.shape}")
    if x.size == 0:
        return np.zeros(0, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise MediaError("the audio holds NaN or infinite samples")
    hop = max(1, round(frame_s * sample_rate / 2))
    frame_len = 2 * hop
    window = np.hanning(frame_len + 1)[:-1]  # periodic Hann: at hop = len/2 the windows sum to exactly one
    padded = np.concatenate([np.zeros(frame_len), x, np.zeros(frame_len)])
    frames = frame_signal(padded, frame_len, hop) * window
    a = lpc_coefficients(frames, lpc_order)
    warped = _warp_poles(a, alpha)
    out = np.zeros(frames.shape[0] * hop + frame_len)
    for index, frame in enumerate(frames):
        if not frame.any():
            continue
        residual = lfilter(a[index], [1.0], frame)
        out[index * hop : index * hop + frame_len] += lfilter([1.0], warped[index], residual)
    anonymized = out[frame_len : frame_len + x.size]
    # One gain for the whole signal: per-frame gains made Whisper lose twice as many words on espeak-ng speech.
    power_in, power_out = float(np.dot(x, x)), float(np.dot(anonymized, anonymized))
    if power_out > 0.0:
        anonymized = anonymized * np.sqrt(power_in / power_out)
    return np.clip(anonymized, -1.0, 1.0).astype(np.float32)


def _warp_poles(a: np.ndarray, alpha: float) -> np.ndarray:
    """LPC polynomials (f, p + 1) with every complex pole's angle phi moved to phi ** alpha (radius kept)."""
    if alpha == 1.0:
        return a.copy()
    poles = lpc_poles(a)
    angle, radius = np.angle(poles), np.abs(poles)
    is_complex = np.abs(poles.imag) > 1e-10
    # Keep warped angles inside (0, pi) so that a pole never crosses the real axis or wraps around.
    warped_angle = np.sign(angle) * np.clip(np.abs(angle) ** alpha, 1e-4, np.pi - 1e-4)
    moved = np.where(is_complex, radius * np.exp(1j * warped_angle), poles)
    return np.real(np.array([np.poly(row) for row in moved]))
