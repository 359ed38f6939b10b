"""McAdams voice anonymization: same length, different voice, formants moved as phi -> phi ** alpha, words kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

from tools.deidentify.voice import _warp_poles, anonymize_voice
from tools.errors import ConfigError, MediaError
from tools.media import load_audio
from tools.speech import transcribe, word_error_rate
from tools.speech.espeak import synthesize_speech
from tools.speech.lpc import formant_track_hz, lpc_poles
from tools.speech.prosody import pitch_track_hz

RATE = 16_000
SENTENCES = (
    "Hello, my name is Alice and I am very happy to meet you today.",
    "Thank you very much for coming to the meeting this afternoon.",
    "I think we should go home now because it is getting late.",
    "The children played in the garden until the sun went down.",
    "Could you please send me the report before Friday?",
    "We are going to the beach next weekend with our friends.",
)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The sentences spoken by espeak-ng, as 16 kHz samples."""
    folder = tmp_path_factory.mktemp("voices")
    return [load_audio(synthesize_speech(text, folder / f"s{i}.wav")) for i, text in enumerate(SENTENCES)]


def warped_hz(frequency_hz: float, alpha: float) -> float:
    """Where McAdams sends a resonance: angle phi = 2 pi f / fs goes to phi ** alpha."""
    return float((2 * np.pi * frequency_hz / RATE) ** alpha * RATE / (2 * np.pi))


def resonator_vowel(formants_hz: tuple[float, ...], f0_hz: float = 110.0, seconds: float = 1.0) -> np.ndarray:
    """A pulse train through one resonator per formant (bandwidth 80 Hz): a synthetic vowel with known formants."""
    n = int(seconds * RATE)
    signal = np.zeros(n)
    signal[(np.arange(0, seconds, 1.0 / f0_hz) * RATE).astype(int)] = 1.0
    for formant_hz in formants_hz:
        radius, theta = np.exp(-np.pi * 80.0 / RATE), 2 * np.pi * formant_hz / RATE
        signal = lfilter([1.0], [1.0, -2 * radius * np.cos(theta), radius**2], signal)
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


def spectral_centroid_hz(samples: np.ndarray) -> float:
    magnitude = np.abs(np.fft.rfft(samples))
    return float(np.sum(magnitude * np.fft.rfftfreq(samples.size, 1.0 / RATE)) / np.sum(magnitude))


def mean_formants_hz(samples: np.ndarray, n_formants: int = 3) -> np.ndarray:
    return np.nanmean(formant_track_hz(samples, n_formants=n_formants), axis=0)


def test_output_keeps_the_length_and_range_but_changes_the_signal(speech: list[np.ndarray]) -> None:
    original = speech[0]
    anonymized = anonymize_voice(original, RATE)
    assert anonymized.shape == original.shape and anonymized.dtype == np.float32
    assert np.all(np.isfinite(anonymized)) and np.abs(anonymized).max() <= 1.0
    assert np.abs(anonymized - original).max() > 0.05
    assert np.sqrt(np.mean(anonymized**2)) == pytest.approx(np.sqrt(np.mean(original**2)), rel=0.05)


def test_alpha_one_gives_back_the_input(speech: list[np.ndarray]) -> None:
    assert np.abs(anonymize_voice(speech[0], RATE, alpha=1.0) - speech[0]).max() < 1e-5


def test_a_pole_angle_phi_moves_to_phi_to_the_alpha() -> None:
    # A(z) with resonances at 500 Hz and 3000 Hz (radius 0.95) and one real pole at 0.5.
    poles = [0.95 * np.exp(1j * 2 * np.pi * f / RATE) for f in (500.0, 3000.0)]
    polynomial = np.real(np.poly([*poles, *np.conj(poles), 0.5]))[None, :]
    warped = lpc_poles(_warp_poles(polynomial, 0.8))[0]
    upper = np.sort(np.angle(warped[warped.imag > 1e-9]) * RATE / (2 * np.pi))
    assert upper == pytest.approx([warped_hz(500.0, 0.8), warped_hz(3000.0, 0.8)], rel=1e-6)
    assert np.sort(np.abs(warped)) == pytest.approx([0.5, 0.95, 0.95, 0.95, 0.95], abs=1e-9)


def test_formants_of_a_known_vowel_move_where_mcadams_says() -> None:
    vowel = resonator_vowel((700.0, 1200.0))
    before = mean_formants_hz(vowel, n_formants=2)
    after = mean_formants_hz(anonymize_voice(vowel, RATE, alpha=0.8), n_formants=2)
    assert before == pytest.approx([700.0, 1200.0], rel=0.05)
    # 700 -> 904 Hz and 1200 -> 1400 Hz predicted; the LPC re-estimate lands within 8%.
    assert after == pytest.approx([warped_hz(700.0, 0.8), warped_hz(1200.0, 0.8)], rel=0.08)


def test_speech_formants_and_spectral_centroid_shift(speech: list[np.ndarray]) -> None:
    for original in speech:
        anonymized = anonymize_voice(original, RATE, alpha=0.8)
        before, after = mean_formants_hz(original), mean_formants_hz(anonymized)
        # F1 and F2 (0.7-2 kHz here) lie under 1 rad (2.5 kHz), so alpha 0.8 must raise both; measured on these
        # sentences: F1 + F2 up 8-11%, spectral centroid up 17-26%.
        assert after[0] > before[0] and after[1] > before[1], (before, after)
        assert after[0] + after[1] > 1.05 * (before[0] + before[1]), (before, after)
        assert spectral_centroid_hz(anonymized) > 1.1 * spectral_centroid_hz(original)


def test_pitch_is_kept_because_the_excitation_is(speech: list[np.ndarray]) -> None:
    # A privacy caveat, checked rather than hidden: McAdams changes the vocal tract, not the voice's F0.
    # The anonymized voice is less periodic to YIN (voiced frames at the default threshold: 44% -> 7% here), so
    # compare with a laxer threshold: about 54 frames are voiced in both.
    original = speech[0]
    before = pitch_track_hz(original, threshold=0.35)
    after = pitch_track_hz(anonymize_voice(original, RATE), threshold=0.35)
    both = np.isfinite(before) & np.isfinite(after)
    assert both.sum() > 30
    assert np.median(after[both] / before[both]) == pytest.approx(1.0, abs=0.02)


@pytest.mark.slow
def test_anonymized_speech_stays_intelligible_to_whisper(speech: list[np.ndarray]) -> None:
    def wer(text: str, audio: np.ndarray) -> float:
        return word_error_rate(text, transcribe(audio, prosody=False).text)

    plain = [wer(text, audio) for text, audio in zip(SENTENCES, speech, strict=True)]
    anonymized = [
        wer(text, anonymize_voice(audio, RATE, alpha=0.8)) for text, audio in zip(SENTENCES, speech, strict=True)
    ]
    print(f"Whisper tiny.en WER per sentence, original: {np.round(plain, 2)}, McAdams 0.8: {np.round(anonymized, 2)}")
    # Measured: the originals 0 on all six everywhere. The anonymized sentences depend on CTranslate2's float kernels
    # (its beam search flips words on fragile input), by CT2_FORCE_CPU_ISA on one machine: AVX512 0, 0, 0.25, 0.45,
    # 0.11, 0.18; GENERIC 0, 0, 0.33, 0.45, 0.11, 0.18; AVX2 0, 0, 0.42, 0.45, 0.11, 0.55 (mean 0.18-0.26). So "most
    # words" in the form every kernel gives: a mean under 0.3, and half the sentences or more at most 0.2 wrong.
    assert max(plain) == 0.0, plain
    assert np.mean(anonymized) < 0.3, anonymized
    assert sum(error <= 0.2 for error in anonymized) >= len(anonymized) / 2, anonymized


def test_bad_input_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="mono"):
        anonymize_voice(np.zeros((2, 100), np.float32), RATE)
    with pytest.raises(MediaError, match="NaN"):
        anonymize_voice(np.array([0.0, np.nan], np.float32), RATE)
    with pytest.raises(ConfigError, match="alpha"):
        anonymize_voice(np.zeros(100, np.float32), RATE, alpha=0.0)
    assert anonymize_voice(np.zeros(0, np.float32), RATE).shape == (0,)
    silent = anonymize_voice(np.zeros(RATE, np.float32), RATE)
    assert silent.shape == (RATE,) and not silent.any()
