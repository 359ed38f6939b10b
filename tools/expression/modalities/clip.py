"""The CLIP modality: zero-shot basic emotions by matching a frame (or face crop) against label prompts.

open_clip builds the model from LOCAL weights only, in one of two forms:

* a folder holding ``open_clip_config.json`` (with ``model_cfg`` and optionally ``preprocess_cfg``) and a
  checkpoint (``*.safetensors``, ``*.bin`` or ``*.pth``), as open_clip's ``local-dir:`` schema reads it;
* a checkpoint file plus the name of a built-in open_clip architecture (``ViT-B-32``, ...).

A pretrained *tag* (``openai``, ``laion2b_s34b_b79k``) would make open_clip download weights, so anything that is
not an existing path is refused. No CLIP weights ship in any registry package: the embedded default has no CLIP
modality, and the CER pipeline treats it as missing.

Probabilities are the softmax of ``logit_scale * cos(image, prompt prototype)``, with the model's own learned
logit scale (about 100 for trained CLIP models) unless a temperature is given. Each emotion's prototype is the
renormalised mean of its prompts' text embeddings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np

from tools.errors import MediaError, ModelUnavailableError
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import InvalidProbabilitiesError, ModalityProbabilities, softmax_probabilities
from tools.registry import Registry, new_registry
from tools.settings import get_settings

OPEN_CLIP_CONFIG: Final[str] = "open_clip_config.json"
CHECKPOINT_SUFFIXES: Final[tuple[str, ...]] = (".safetensors", ".bin", ".pth", ".pt")

CLIP_EMOTION_PROMPTS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "Neutral": ("a photo of a face with a neutral expression.", "a photo of a calm, expressionless face."),
        "Anger": ("a photo of an angry face.", "a photo of a person looking furious."),
        "Disgust": ("a photo of a disgusted face.", "a photo of a person looking disgusted."),
        "Fear": ("a photo of a fearful face.", "a photo of a scared person."),
        "Happiness": ("a photo of a happy face.", "a photo of a smiling person."),
        "Sadness": ("a photo of a sad face.", "a photo of a person looking sad."),
        "Surprise": ("a photo of a surprised face.", "a photo of a person looking astonished."),
    }
)


def _has_checkpoint(folder: Path) -> bool:
    return any(p.suffix in CHECKPOINT_SUFFIXES and p.is_file() for p in folder.iterdir())


class ClipLabelMatcher:
    """Basic-emotion probabilities (7,) for an RGB image from a CLIP model and per-emotion prompts."""

    def __init__(
        self,
        model: Any,
        preprocess: Any,
        tokenizer: Any,
        name: str,
        prompts: Mapping[str, Sequence[str]] = CLIP_EMOTION_PROMPTS,
        temperature: float | None = None,
        device: str = "cpu",
    ) -> None:
        absent = [label for label in BASIC_EMOTIONS if not prompts.get(label)]
        if absent:
            raise InvalidProbabilitiesError(f"CLIP modality needs at least one prompt per emotion; none for {absent}")
        if temperature is not None and temperature <= 0:
            raise InvalidProbabilitiesError(f"temperature must be > 0; got {temperature}")
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.name = name
        self.prompts = {label: tuple(prompts[label]) for label in BASIC_EMOTIONS}
        self.temperature = temperature
        self.device = device
        self._label_embeddings: np.ndarray | None = None

    @classmethod
    def from_local(
        cls, checkpoint: str | Path, model_name: str | None = None, device: str = "cpu", **kwargs: Any
    ) -> ClipLabelMatcher:
        """Load open_clip from a local folder (with ``open_clip_config.json``) or a checkpoint file + built-in
        ``model_name``. Never downloads; a missing path or a pretrained tag is a ``ModelUnavailableError``."""
        path = Path(checkpoint).expanduser()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if path.is_dir():
            if not (path / OPEN_CLIP_CONFIG).is_file():
                raise ModelUnavailableError(f"CLIP folder {path} has no {OPEN_CLIP_CONFIG}")
            if not _has_checkpoint(path):
                suffixes = ", ".join(CHECKPOINT_SUFFIXES)
                raise ModelUnavailableError(f"CLIP folder {path} holds no checkpoint ({suffixes})")
            model_id, pretrained, label = f"local-dir:{path}", None, f"open_clip:{path.name}"
        elif path.is_file():
            import open_clip

            if not model_name:
                raise ModelUnavailableError(f"a CLIP checkpoint file ({path}) needs the open_clip model name too")
            if model_name not in open_clip.list_models():
                raise ModelUnavailableError(f"unknown open_clip architecture {model_name!r} for checkpoint {path}")
            model_id, pretrained, label = model_name, str(path), f"open_clip:{model_name}"
        else:
            raise ModelUnavailableError(
                f"CLIP weights not found at {str(checkpoint)!r}: give a local checkpoint file or folder "
                "(pretrained tags are refused because they download)"
            )
        try:
            import open_clip
            import torch

            torch.set_num_threads(get_settings().torch_threads)
            model, _, preprocess = open_clip.create_model_and_transforms(
                model_id, pretrained=pretrained, device=device, pretrained_image=False, pretrained_text=False
            )
            tokenizer = open_clip.get_tokenizer(model_id)
        except Exception as exc:  # open_clip raises RuntimeError, ValueError, FileNotFoundError, torch errors
            raise ModelUnavailableError(f"cannot load CLIP from {path}: {exc}") from exc
        return cls(model, preprocess, tokenizer, label, device=device, **kwargs)

    @property
    def logit_scale(self) -> float:
        """Multiplier of the cosines before the softmax: 1/temperature, or the model's learned scale."""
        if self.temperature is not None:
            return 1.0 / self.temperature
        return float(self.model.logit_scale.exp().item())

    @property
    def label_embeddings(self) -> np.ndarray:
        """Unit prompt-prototype embeddings (7, D) in ``BASIC_EMOTIONS`` order; usable for PFSA."""
        if self._label_embeddings is None:
            import torch

            rows = []
            with torch.inference_mode():
                for label in BASIC_EMOTIONS:
                    tokens = self.tokenizer(list(self.prompts[label])).to(self.device)
                    features = self.model.encode_text(tokens).double()
                    features = features / features.norm(dim=-1, keepdim=True)
                    mean = features.mean(dim=0)
                    rows.append((mean / mean.norm()).cpu().numpy())
            matrix = np.stack(rows)
            matrix.setflags(write=False)
            self._label_embeddings = matrix
        return self._label_embeddings

    def image_embeddings(self, images_rgb: Sequence[np.ndarray]) -> np.ndarray:
        """Unit image embeddings (n, D) for RGB uint8 images (H, W, 3) of any size (the model's transform
        resizes and crops)."""
        import torch
        from PIL import Image

        batch = []
        for image in images_rgb:
            array = np.asarray(image)
            if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
                raise MediaError(f"CLIP needs RGB uint8 images (H, W, 3); got {array.dtype} {array.shape}")
            batch.append(self.preprocess(Image.fromarray(array)))
        if not batch:
            return np.zeros((0, self.label_embeddings.shape[1]))
        with torch.inference_mode():
            features = self.model.encode_image(torch.stack(batch).to(self.device)).double()
            features = features / features.norm(dim=-1, keepdim=True)
        return np.asarray(features.cpu().numpy())

    def image_embedding(self, image_rgb: np.ndarray) -> np.ndarray:
        """Unit embedding (D,) of one RGB uint8 image: the segment embedding PFSA compares with the labels."""
        return self.image_embeddings([image_rgb])[0]

    def probabilities_batch(self, images_rgb: Sequence[np.ndarray]) -> list[ModalityProbabilities]:
        """One ``clip`` modality result per image."""
        cosines = self.image_embeddings(images_rgb) @ self.label_embeddings.T
        probabilities = softmax_probabilities(cosines * self.logit_scale)
        return [ModalityProbabilities("clip", row, self.name) for row in probabilities]

    def probabilities(self, image_rgb: np.ndarray) -> ModalityProbabilities:
        """Basic-emotion probabilities of one RGB uint8 image (H, W, 3)."""
        return self.probabilities_batch([image_rgb])[0]


CLIP_BACKENDS: Registry[ClipLabelMatcher] = new_registry("clip")


def _configured_checkpoint() -> Path | None:
    return get_settings().clip_checkpoint


def _build_configured() -> ClipLabelMatcher:
    checkpoint = _configured_checkpoint()
    if checkpoint is None:
        raise ModelUnavailableError(
            "no CLIP weights configured: set MIEN_CLIP_CHECKPOINT to an open_clip checkpoint file "
            "(with MIEN_CLIP_MODEL_NAME) or to a folder with open_clip_config.json"
        )
    return ClipLabelMatcher.from_local(checkpoint, get_settings().clip_model_name)


def _configured_weights() -> str:
    checkpoint = _configured_checkpoint()
    return "not configured (MIEN_CLIP_CHECKPOINT)" if checkpoint is None else str(checkpoint)


def _configured_ready() -> bool:
    checkpoint = _configured_checkpoint()
    return checkpoint is not None and checkpoint.exists()


CLIP_BACKENDS.register(
    "open_clip",
    _build_configured,
    description="CLIP image-label matching with open_clip from a local checkpoint (none ships in a package)",
    weights=_configured_weights,
    ready=_configured_ready,
    default=True,
)
