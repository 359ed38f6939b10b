"""Remote photoplethysmography: a pulse rate from the colour of facial skin over time (POS, Wang et al. 2017).

Blood volume changes with each heartbeat tint the skin very slightly (strongest in green). POS projects the
temporally normalised RGB trace onto the plane orthogonal to the skin tone, which cancels the common intensity
changes that head motion and lighting cause, and combines the two projections so the pulse adds up. The rate is
the strongest spectral peak between 42 and 180 bpm; it counts as a pulse when that peak (with its harmonic) stands
out from the rest of the band. A photo or a screen shows no such periodic tint: the peak does not stand out.

This is a heuristic liveness signal, not a medical measurement: real video compression, makeup, low light and
strong motion weaken it.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy.signal import butter, filtfilt

from tools.attack.types import PulseEstimate

BAND_HZ: Final[tuple[float, float]] = (0.7, 3.0)  # 42-180 bpm
WINDOW_S: Final[float] = 1.6  # POS overlap-add window (the paper's 1.6 s)
MIN_SECONDS: Final[float] = 4.0
MIN_FPS: Final[float] = 8.0
# SNR (dB) at which a peak counts as a pulse. Measured on clips composed by evals/liveness_clips.py (1.2 % green
# tint, head motion, noise): pulses of 50-150 bpm at H.264 crf 12 gave +4 to +7 dB; at crf 18, 50-90 bpm gave
# -1.3 to +6.6 dB and 132-150 bpm were lost (-5 to -2 dB); still photos gave -6.1 to -0.5 dB, so the threshold
# alone does not separate them: the halves test (``_halves_agree``) rejected the still photos above it.
PULSE_SNR_DB: Final[float] = -3.0
AGREE_HZ: Final[float] = 0.1  # 6 bpm
# Rows of the POS projection (Wang et al. 2017, eq. 7).
POS_PROJECTION: Final[np.ndarray] = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])


def pos_signal(rgb: np.ndarray, fps: float) -> np.ndarray:
    """The POS pulse signal (N,) from mean skin RGB per frame (N, 3)."""
    trace = np.asarray(rgb, dtype=np.float64)
    n = len(trace)
    window = max(2, round(WINDOW_S * fps))
    pulse = np.zeros(n)
    for start in range(0, n - window + 1):
        block = trace[start : start + window]
        mean = block.mean(axis=0)
        if np.any(mean <= 0):
            continue
        normalised = (block / mean).T  # (3, window)
        s = POS_PROJECTION @ normalised
        std1 = s[1].std()
        h = s[0] + (s[0].std() / std1 if std1 > 0 else 0.0) * s[1]
        pulse[start : start + window] += h - h.mean()
    return pulse


def _band_pass(signal: np.ndarray, fps: float) -> np.ndarray:
    nyquist = fps / 2.0
    high = min(BAND_HZ[1], 0.95 * nyquist)
    b, a = butter(3, [BAND_HZ[0] / nyquist, high / nyquist], btype="band")
    padlen = min(len(signal) - 1, 3 * max(len(a), len(b)))
    return np.asarray(filtfilt(b, a, signal, padlen=padlen))


def spectrum_peak(signal: np.ndarray, fps: float) -> tuple[float, float]:
    """(peak frequency Hz, SNR dB) of ``signal`` in the heart-rate band: the power within +-0.1 Hz of the peak and
    of its first harmonic against the rest of the band (de Haan and Jeanne's SNR)."""
    n = len(signal)
    size = max(4096, 1 << int(np.ceil(np.log2(n))))  # zero padding for a fine frequency grid
    windowed = (signal - signal.mean()) * np.hanning(n)
    power = np.abs(np.fft.rfft(windowed, size)) ** 2
    freqs = np.fft.rfftfreq(size, 1.0 / fps)
    band = (freqs >= BAND_HZ[0]) & (freqs <= min(BAND_HZ[1], fps / 2))
    if not band.any() or power[band].sum() <= 0:
        return 0.0, -np.inf
    peak = float(freqs[band][np.argmax(power[band])])
    near = (np.abs(freqs - peak) <= 0.1) | (np.abs(freqs - 2 * peak) <= 0.1)
    signal_power = power[band & near].sum()
    noise_power = power[band & ~near].sum()
    snr = 10 * np.log10(signal_power / noise_power) if noise_power > 0 else np.inf
    return peak, float(snr)


def _halves_agree(signal: np.ndarray, fps: float, peak_hz: float) -> bool:
    """A heartbeat keeps its rate through the clip; a chance peak of noise or motion wanders. Both halves' peaks
    must lie within ``AGREE_HZ`` of the whole trace's (halves of under 3 s are not split)."""
    half = len(signal) // 2
    if half / fps < 3.0:
        return True
    return all(abs(spectrum_peak(part, fps)[0] - peak_hz) <= AGREE_HZ for part in (signal[:half], signal[half:]))


def estimate_pulse(rgb: np.ndarray, fps: float, threshold_db: float = PULSE_SNR_DB) -> PulseEstimate:
    """A pulse estimate from mean skin RGB per frame (N, 3) sampled at ``fps``.

    Too short or too slowly sampled traces give ``detected=False`` and ``bpm=None`` (nothing to measure).
    """
    trace = np.asarray(rgb, dtype=np.float64)
    seconds = len(trace) / fps if fps > 0 else 0.0
    if fps < MIN_FPS or seconds < MIN_SECONDS:
        return PulseEstimate(None, -np.inf, False, seconds, fps, threshold_db)
    signal = _band_pass(pos_signal(trace, fps), fps)
    peak_hz, snr = spectrum_peak(signal, fps)
    detected = bool(np.isfinite(snr) and snr >= threshold_db) and _halves_agree(signal, fps, peak_hz)
    return PulseEstimate(peak_hz * 60.0 if detected else None, snr, detected, seconds, fps, threshold_db)
