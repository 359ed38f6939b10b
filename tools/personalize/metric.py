"""How well generated portraits keep the person and follow the prompt.

Identity: every recognizer whose weights are present (dlib's ResNet always; ArcFace, an insightface pack when
configured) embeds the reference photos and the largest face of each generated image; the score is the cosine
similarity to the mean reference embedding, judged against that recognizer's own threshold. An image where no face
is found says so (no similarity is made up for it). Prompt fidelity: CLIPScore (100 x cosine of image and text
embeddings, floored at 0) of a transformers CLIP model from a local folder, with the person's token replaced by
"a person", so it measures the prompt's content, not the identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.errors import ModelUnavailableError
from tools.faces.embedders import EMBEDDERS, get_embedder
from tools.faces.pipeline import FaceOptions, analyze_image
from tools.faces.protocols import Embedder
from tools.faces.types import Face
from tools.media import load_image
from tools.personalize.types import ImageScore, RecognizerScore


def available_recognizers() -> list[str]:
    """Names of the embedders whose weights are present here."""
    names = []
    for entry in EMBEDDERS.entries():
        try:
            ready = entry.ready()
        except Exception:  # a backend that cannot even say whether it is ready is not available
            ready = False
        if ready:
            names.append(entry.name)
    return names


def _largest_face(image: np.ndarray) -> Face | None:
    faces = analyze_image(image, FaceOptions(mesh=False, pose=False, embeddings=False))
    return max(faces, key=lambda f: f.box.area) if faces else None


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def identity_scores(
    images: Sequence[tuple[str, np.ndarray]],
    references: Sequence[str | Path | np.ndarray],
    recognizers: Sequence[str] | None = None,
) -> list[ImageScore]:
    """Per generated ``(file, image)``, the identity similarity to ``references`` (paths or RGB arrays) for each
    recognizer. References without a face are skipped; if none has one, every score says so instead of a number."""
    names = list(recognizers) if recognizers is not None else available_recognizers()
    embedders: list[Embedder] = [get_embedder(name) for name in names]
    reference_faces = []
    for reference in references:
        image = load_image(reference) if not isinstance(reference, np.ndarray) else reference
        face = _largest_face(image)
        if face is not None:
            reference_faces.append((image, face))
    centres = {}
    for embedder in embedders:
        if reference_faces:
            rows = [embedder.embed(image, [face])[0] for image, face in reference_faces]
            centres[embedder.name] = _unit(np.mean(rows, axis=0))
    scores = []
    for file, image in images:
        face = _largest_face(image)
        per_recognizer = []
        for embedder in embedders:
            threshold = float(embedder.match_threshold)
            if embedder.name not in centres:
                note = "no face in the references"
                per_recognizer.append(RecognizerScore(embedder.name, None, threshold, None, note))
            elif face is None:
                per_recognizer.append(RecognizerScore(embedder.name, None, threshold, None, "no face found"))
            else:
                similarity = float(_unit(embedder.embed(image, [face])[0]) @ centres[embedder.name])
                per_recognizer.append(RecognizerScore(embedder.name, similarity, threshold, similarity >= threshold))
        scores.append(ImageScore(file, 0 if face is None else 1, per_recognizer))
    return scores


def clip_scores(images: Sequence[np.ndarray], prompt: str, clip_dir: str | Path) -> list[float]:
    """CLIPScore of each image (H, W, 3) uint8 against ``prompt`` with the CLIP model in ``clip_dir``."""
    return [max(0.0, 100.0 * cosine) for cosine in clip_cosines(images, prompt, clip_dir)]


def clip_cosines(images: Sequence[np.ndarray], prompt: str, clip_dir: str | Path) -> list[float]:
    """Cosine similarity of each image's CLIP embedding to the prompt's."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    folder = Path(clip_dir)
    if not (folder / "config.json").is_file():
        raise ModelUnavailableError(f"{folder}: not a transformers CLIP folder (config.json is missing)")
    try:
        model: Any = CLIPModel.from_pretrained(str(folder), local_files_only=True).eval()
        processor: Any = CLIPProcessor.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(f"{folder}: transformers cannot load this CLIP model ({error})") from error
    inputs = processor(text=[prompt], images=list(images), return_tensors="pt", padding=True, truncation=True)
    with torch.no_grad():
        image_features = model.get_image_features(pixel_values=inputs["pixel_values"])
        text_features = model.get_text_features(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
    image_features = torch.nn.functional.normalize(_projected(image_features), dim=-1)
    text_features = torch.nn.functional.normalize(_projected(text_features), dim=-1)
    return [float(v) for v in (image_features @ text_features.T)[:, 0]]


def _projected(features: Any) -> Any:
    """The projected embeddings: a tensor in transformers 4, the output's ``pooler_output`` in transformers 5."""
    import torch

    return features if isinstance(features, torch.Tensor) else features.pooler_output
