"""``transcribe``: espeak-ng speech to words with times, voice activity, and clear results on bad input."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from tests.speech.conftest import SECOND_SENTENCE, SENTENCE, Speak
from tools.errors import ConfigError, MediaError, ModelUnavailableError
from tools.media import SPEECH_SAMPLE_RATE, load_audio, save_image, write_video
from tools.speech import Transcript, transcribe, word_error_rate
from tools.speech.backends import FasterWhisperTranscriber, assemble_split_model, tiny_en_dir, whisper_base_dir
from tools.speech.espeak import synthesize_speech
from tools.speech.types import SpeechRegion


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SPEECH_SAMPLE_RATE), dtype=np.float32)


def assert_words_timed_inside(transcript: Transcript) -> None:
    words = transcript.words
    assert words, "no words recognised"
    for word in words:
        assert 0.0 <= word.start_s <= word.end_s <= transcript.duration_s, word
    starts = [word.start_s for word in words]
    ends = [word.end_s for word in words]
    assert starts == sorted(starts) and ends == sorted(ends)
    assert all(later.start_s >= earlier.end_s - 1e-6 for earlier, later in itertools.pairwise(words))


@pytest.fixture(scope="module")
def sentence_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_speech(SENTENCE, tmp_path_factory.mktemp("speech") / "sentence.wav")


@pytest.fixture(scope="module")
def sentence_transcript(sentence_path: Path) -> Transcript:
    """The known sentence, transcribed once for the tests that only read the result."""
    return transcribe(sentence_path)


def test_known_sentence_is_transcribed_without_word_error(sentence_transcript: Transcript, sentence_path: Path) -> None:
    transcript = sentence_transcript
    assert word_error_rate(SENTENCE, transcript.text) == 0.0, transcript.text
    assert transcript.language == "en"
    assert transcript.model == "whisper-tiny-en (faster-whisper:tiny.en:int8)"
    assert transcript.note is None
    assert transcript.duration_s == pytest.approx(len(load_audio(sentence_path)) / 16_000)


def test_word_timestamps_are_monotonic_and_inside_the_audio(sentence_transcript: Transcript) -> None:
    transcript = sentence_transcript
    assert_words_timed_inside(transcript)
    assert [w.text.strip(",.").lower() for w in transcript.words][:3] == ["hello", "my", "name"]
    assert all(0.0 <= w.probability <= 1.0 for w in transcript.words)


def test_voice_activity_skips_silence_and_words_land_in_their_regions(speak: Speak) -> None:
    first, second = load_audio(speak(SENTENCE, "one.wav")), load_audio(speak(SECOND_SENTENCE, "two.wav"))
    audio = np.concatenate([silence(2.0), first, silence(3.0), second, silence(1.5)])
    second_onset_s = (2.0 * 16_000 + len(first) + 3.0 * 16_000) / 16_000

    transcript = transcribe(audio)

    assert word_error_rate(f"{SENTENCE} {SECOND_SENTENCE}", transcript.text) == 0.0, transcript.text
    assert len(transcript.speech_regions) == 2
    assert transcript.speech_regions[0].start_s > 1.5  # the leading 2 s of silence is not decoded
    assert transcript.speech_regions[1].start_s > 2.0 + len(first) / 16_000  # nor the 3 s pause
    assert_words_timed_inside(transcript)
    thank = next(w for w in transcript.words if w.text.lower().startswith("thank"))
    assert abs(thank.start_s - second_onset_s) < 0.5
    assert transcript.words[0].start_s > 1.5


def test_samples_at_another_rate_are_resampled(speak: Speak) -> None:
    path = speak(SENTENCE)
    audio_44k = load_audio(path, sample_rate=44_100)
    transcript = transcribe(audio_44k, sample_rate=44_100)
    assert word_error_rate(SENTENCE, transcript.text) == 0.0, transcript.text
    assert transcript.duration_s == pytest.approx(len(audio_44k) / 44_100, abs=0.01)


def test_progress_reports_seconds_decoded(speak: Speak) -> None:
    audio = np.concatenate([load_audio(speak(SENTENCE)), silence(1.0), load_audio(speak(SECOND_SENTENCE, "b.wav"))])
    seen: list[float] = []
    transcript = transcribe(audio, on_progress=seen.append, prosody=False)
    assert len(seen) == len(transcript.segments) >= 1
    assert seen == sorted(seen) and seen[-1] <= transcript.duration_s + 0.5


def test_energy_vad_also_finds_the_speech(speak: Speak, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.settings import get_settings

    monkeypatch.setenv("MIEN_SPEECH_VAD", "energy")
    get_settings.cache_clear()
    audio = np.concatenate([silence(1.0), load_audio(speak(SENTENCE)), silence(1.0)])
    transcript = transcribe(audio)
    assert transcript.vad == "energy"
    assert len(transcript.speech_regions) == 1 and transcript.speech_regions[0].start_s > 0.7
    assert word_error_rate(SENTENCE, transcript.text) == 0.0, transcript.text


# --- silence and bad input ---------------------------------------------------------------------------------------


def test_digital_silence_gives_an_empty_transcript_with_a_note() -> None:
    transcript = transcribe(silence(3.0))
    assert transcript.segments == [] and transcript.text == "" and transcript.speech_regions == []
    assert transcript.note is not None and "no speech detected" in transcript.note
    assert transcript.duration_s == pytest.approx(3.0)


def test_sox_silence_file_gives_an_empty_transcript(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", "2.5"], check=True)
    transcript = transcribe(path)
    assert transcript.segments == [] and "no speech detected" in (transcript.note or "")


def test_faint_noise_is_not_speech_for_silero() -> None:
    # -40 dBFS white noise: loud enough to pass the silence gate, so the Silero network itself decides.
    noise = (np.random.default_rng(0).standard_normal(3 * 16_000) * 0.01).astype(np.float32)
    transcript = transcribe(noise)
    assert transcript.segments == [] and transcript.vad == "silero"
    assert "no speech detected" in (transcript.note or "")


def test_empty_audio_array_gives_a_note() -> None:
    transcript = transcribe(np.zeros(0, dtype=np.float32))
    assert transcript.segments == [] and "empty" in (transcript.note or "")


def test_video_without_an_audio_track_raises_media_error_naming_it(tmp_path: Path, astronaut: np.ndarray) -> None:
    video = write_video(tmp_path / "mute.mp4", [astronaut[::4, ::4]] * 5, fps=5.0)
    with pytest.raises(MediaError, match=r"mute\.mp4.*no audio track"):
        transcribe(video)


def test_video_with_speech_audio_is_transcribed(tmp_path: Path, astronaut: np.ndarray, speak: Speak) -> None:
    audio = load_audio(speak(SENTENCE))
    frames = [astronaut[::4, ::4]] * int(len(audio) / 16_000 * 5 + 1)
    video = write_video(tmp_path / "talking.mp4", frames, fps=5.0, audio=audio)
    assert word_error_rate(SENTENCE, transcribe(video).text) == 0.0


def test_an_image_raises_media_error(tmp_path: Path, astronaut: np.ndarray) -> None:
    image = save_image(tmp_path / "astronaut.png", astronaut)
    with pytest.raises(MediaError, match=r"astronaut\.png.*image has no audio"):
        transcribe(image)


@pytest.mark.parametrize(
    ("samples", "message"),
    [(np.zeros((2, 100), np.float32), "mono"), (np.array([0.0, np.nan], np.float32), "NaN")],
)
def test_malformed_sample_arrays_raise_media_error(samples: np.ndarray, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        transcribe(samples)


def test_english_only_backend_refuses_another_language(sentence_path: Path) -> None:
    with pytest.raises(ConfigError, match="only transcribes English"):
        transcribe(sentence_path, language="fr")


def test_malformed_language_and_unknown_backend_are_config_errors(sentence_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a language code"):
        transcribe(sentence_path, language="english!")
    with pytest.raises(ConfigError, match="unknown transcriber backend 'whisper-huge'"):
        transcribe(sentence_path, backend="whisper-huge")


def test_transcript_serialises_to_json(sentence_transcript: Transcript) -> None:
    payload = json.loads(json.dumps(sentence_transcript.to_dict()))
    assert word_error_rate(SENTENCE, payload["text"]) == 0.0
    segment = payload["segments"][0]
    assert {"start_s", "end_s", "text", "words", "avg_logprob", "no_speech_prob", "prosody"} <= segment.keys()
    assert segment["prosody"]["pitch_mean_hz"] > 50


# --- backends and weights ---------------------------------------------------------------------------------------


def test_a_split_model_bin_is_reassembled_into_a_working_model(tmp_path: Path, speak: Speak) -> None:
    # The whisper-base packages ship model.bin in two halves; split the packaged tiny.en the same way and rebuild it.
    source = tiny_en_dir()
    assert source is not None
    blob = (source / "model.bin").read_bytes()
    first, second = tmp_path / "part1", tmp_path / "part2"
    first.mkdir(), second.mkdir()
    (first / "model.bin.part1").write_bytes(blob[: len(blob) // 2])
    (second / "model.bin.part2").write_bytes(blob[len(blob) // 2 :])
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (second / name).write_bytes((source / name).read_bytes())

    folder = assemble_split_model((first, second), tmp_path / "assembled")

    assert (folder / "model.bin").read_bytes() == blob
    transcriber = FasterWhisperTranscriber(folder, name="reassembled", label="tiny.en")
    samples = load_audio(speak(SENTENCE))
    recognition = transcriber.recognize(
        samples, regions=[SpeechRegion(0.0, len(samples) / 16_000)], language=None, word_timestamps=False
    )
    assert word_error_rate(SENTENCE, " ".join(s.text for s in recognition.segments)) == 0.0


def test_whisper_base_folder_setting_is_used_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.settings import get_settings

    monkeypatch.setenv("MIEN_WHISPER_BASE_DIR", str(tmp_path / "nothing-here"))
    get_settings.cache_clear()
    with pytest.raises(ModelUnavailableError, match="not a CTranslate2 Whisper folder"):
        whisper_base_dir()
    source = tiny_en_dir()
    assert source is not None
    monkeypatch.setenv("MIEN_WHISPER_BASE_DIR", str(source))
    get_settings.cache_clear()
    assert whisper_base_dir() == source


def test_openai_whisper_refuses_a_model_name_instead_of_downloading() -> None:
    from tools.speech.backends import OpenAIWhisperTranscriber

    with pytest.raises(ModelUnavailableError, match="no such openai-whisper checkpoint"):
        OpenAIWhisperTranscriber(Path("base"))


@pytest.mark.slow
def test_openai_whisper_backend_runs_a_local_checkpoint(tmp_path: Path, speak: Speak) -> None:
    """No openai-whisper weights ship in any package: the test builds a tiny random Whisper and saves it as a .pt.

    That checks loading from a path and the conversion of openai-whisper's output, not recognition quality.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    from tools.speech.backends import OpenAIWhisperTranscriber

    torch.manual_seed(0)
    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=16, n_audio_head=2, n_audio_layer=1,
        n_vocab=51864, n_text_ctx=448, n_text_state=16, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    checkpoint = tmp_path / "tiny-random.en.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": Whisper(dims).state_dict()}, checkpoint)

    transcriber = OpenAIWhisperTranscriber(checkpoint, beam_size=1, temperatures=(0.0,), max_tokens_per_window=6)
    samples = load_audio(speak(SENTENCE))
    duration_s = len(samples) / 16_000
    recognition = transcriber.recognize(
        samples, regions=[SpeechRegion(0.0, duration_s)], language=None, word_timestamps=True
    )

    assert transcriber.model == "openai-whisper:tiny-random.en:float32" and not transcriber.multilingual
    assert recognition.language == "en" and recognition.segments
    for segment in recognition.segments:
        assert 0.0 <= segment.start_s <= segment.end_s <= duration_s
        assert all(0.0 <= w.start_s <= w.end_s <= duration_s for w in segment.words)


# --- the CLI ------------------------------------------------------------------------------------------------------


def test_cli_prints_json_with_words(sentence_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["transcribe", str(sentence_path), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    payload = json.loads(out)
    assert word_error_rate(SENTENCE, payload["text"]) == 0.0
    assert payload["segments"][0]["words"][0]["text"].lower().startswith("hello")


def test_cli_rejects_an_image_with_one_line(
    tmp_path: Path, astronaut: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    image = save_image(tmp_path / "face.png", astronaut)
    code = main(["transcribe", str(image)])
    err = capsys.readouterr().err
    assert code == MediaError.exit_code
    assert err.startswith("mien: error: ") and "face.png" in err and err.count("\n") == 1


def test_regions_are_joined_into_clips_across_short_pauses_only() -> None:
    from tools.speech.vad import decoding_clips

    regions = [SpeechRegion(0.5, 2.0), SpeechRegion(2.8, 4.0), SpeechRegion(9.0, 10.0)]
    assert decoding_clips(regions, max_gap_s=2.0) == [SpeechRegion(0.5, 4.0), SpeechRegion(9.0, 10.0)]
    assert decoding_clips(regions, max_gap_s=0.5) == regions


def test_cli_says_when_there_is_no_speech(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "quiet.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", "1.5"], check=True)
    code = main(["transcribe", str(path)])
    assert code == 0
    assert "no speech detected" in capsys.readouterr().out
