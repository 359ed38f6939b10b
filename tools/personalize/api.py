"""The personalization API the CLI and the agent tool call: train a person from photos, generate portraits."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.errors import ConfigError
from tools.media.image import save_image
from tools.personalize.generation import generate, resolve_prompt
from tools.personalize.metric import clip_scores, identity_scores
from tools.personalize.model import load_sd, native_size_px, placeholder_for, resolve_sd_folder
from tools.personalize.photos import reference_faces
from tools.personalize.state import apply, load, save
from tools.personalize.training import StepCallback, train
from tools.personalize.types import GenerationResult, ImageScore, PersonalizeOptions, TrainReport
from tools.settings import get_settings


def personalization_path(name: str) -> Path:
    """Where the personalization called ``name`` is kept: <personalize_dir or home/personalize>/<slug>.safetensors."""
    settings = get_settings()
    folder = settings.personalize_dir or settings.home / "personalize"
    return folder / f"{placeholder_for(name).strip('<>')}.safetensors"


def find_personalization(name_or_path: str | Path) -> Path:
    """A .safetensors path as is, else the saved personalization of that name."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".safetensors":
        return candidate
    return personalization_path(str(name_or_path))


def train_person(
    name: str,
    photos: Sequence[str | Path],
    model: str | Path | None = None,
    options: PersonalizeOptions | None = None,
    out: str | Path | None = None,
    progress: StepCallback | None = None,
    device: str = "cpu",
    pipe: Any = None,
) -> TrainReport:
    """Learn ``name`` from ``photos`` (one face each) on the SD model and save it as one file; the report says where.

    The SD folder is checked and the faces found before the (slow) model load, so bad input fails fast.
    """
    options = options or PersonalizeOptions()
    if options.steps < 1 or options.tokens < 1 or options.batch_size < 1:
        raise ConfigError("training needs at least one step, one token and a batch of one")
    folder = resolve_sd_folder(model)
    placeholder_for(name)
    side = options.resolution or native_size_px(folder)
    references = reference_faces(photos, side, options.embedder)
    pipe = pipe if pipe is not None else load_sd(folder, device)
    learned, report = train(pipe, references, name, options, str(folder.resolve()), progress)
    path = save(learned, out or personalization_path(name))
    return dataclasses.replace(report, file=str(path), file_bytes=path.stat().st_size)


def generate_portraits(
    name: str | Path,
    prompt: str,
    out_dir: str | Path,
    model: str | Path | None = None,
    count: int = 1,
    steps: int = 30,
    guidance: float = 7.5,
    seed: int = 0,
    size_px: int | None = None,
    score: bool = True,
    clip_dir: str | Path | None = None,
    device: str = "cpu",
    pipe: Any = None,
    references: Sequence[str | Path] | None = None,
) -> GenerationResult:
    """Write ``count`` portraits for ``prompt`` (which names the person) to ``out_dir`` and score them.

    The model is ``model``, else ``MIEN_SD_MODEL``, else the folder the personalization was trained on. Identity is
    scored against ``references``, else the photos it was trained on (those still there).
    """
    learned = load(find_personalization(name))
    resolve_prompt(prompt, learned)  # a prompt without the person fails before the model loads
    settings = get_settings()
    chosen = model if model is not None else settings.sd_model or learned.model
    if pipe is None:
        pipe = load_sd(resolve_sd_folder(chosen), device)
    applied = apply(learned, pipe)
    started = time.perf_counter()
    images = generate(pipe, applied, prompt, count, steps, guidance, seed, size_px)
    seconds = time.perf_counter() - started
    slug = learned.placeholder.strip("<>")
    files = [str(save_image(Path(out_dir) / f"{slug}-seed{seed}-{i + 1}.png", image)) for i, image in enumerate(images)]
    notes: list[str] = []
    scores: list[ImageScore] = []
    if score:
        if references is None:
            references = [p for p in learned.photos if Path(p).is_file()]
            if len(references) < len(learned.photos):
                gone = len(learned.photos) - len(references)
                notes.append(f"{gone} reference photo(s) are gone; scored on the rest")
        scores = identity_scores(list(zip(files, images, strict=True)), references)
        clip_folder = clip_dir or settings.personalize_clip_dir
        if clip_folder is not None:
            neutral = re.sub(re.escape(learned.placeholder), "a person", resolve_prompt(prompt, learned))
            values = clip_scores(images, neutral, clip_folder)
            scores = [dataclasses.replace(s, clip_score=v) for s, v in zip(scores, values, strict=True)]
        else:
            notes.append("prompt fidelity not measured (no CLIP model: --clip DIR or MIEN_PERSONALIZE_CLIP_DIR)")
    return GenerationResult(learned.name, prompt, files, seconds, learned.method, scores, notes)
