"""The attack model as a backend: load the weights once, score the faces of an image.

The embedded default is the small FA3 model in ``tools/attack/weights/fa3-small.pt``, trained by
``scripts/train_attack_weights.py`` on attacks synthesized from the few real photos that ship in packages (see
``docs/attack.md`` for what that can and cannot show). ``MIEN_ATTACK_WEIGHTS`` points at other weights made by
``mien attack train``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import torch

from tools.attack.crops import align_face
from tools.attack.training import TrainedModel, load_checkpoint, predict
from tools.attack.types import ATTACK_TYPES, AttackScore
from tools.faces.types import Face
from tools.registry import Registry, new_registry
from tools.settings import get_settings

DEFAULT_WEIGHTS: Final[Path] = Path(__file__).parent / "weights" / "fa3-small.pt"


class AttackDetector:
    """Scores aligned face crops with a trained FA3 model."""

    def __init__(self, trained: TrainedModel, name: str) -> None:
        self.trained = trained
        self.name = name
        self.input_size = trained.model.config.input_size

    @classmethod
    def from_file(cls, path: str | Path) -> AttackDetector:
        torch.set_num_threads(get_settings().torch_threads)
        return cls(load_checkpoint(path), f"fa3-small:{Path(path).name}")

    def crop(self, image_rgb: np.ndarray, face: Face) -> np.ndarray | None:
        """The model's input crop (S, S, 3) for ``face``, or None when it has no 5 landmarks."""
        if face.landmarks5 is None:
            return None
        aligned = align_face(image_rgb, face.landmarks5)
        return np.asarray(cv2.resize(aligned, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA))

    def score_crops(self, crops: Sequence[np.ndarray]) -> list[AttackScore]:
        """One score per model-size crop (S, S, 3) uint8."""
        if not crops:
            return []
        fake, kinds = predict(self.trained.model, np.stack(crops))
        return [
            AttackScore(
                float(p), {name: float(q) for name, q in zip(ATTACK_TYPES, row, strict=True)}, self.trained.threshold
            )
            for p, row in zip(fake, kinds, strict=True)
        ]

    def score_faces(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> list[AttackScore | None]:
        """A score per face of ``image_rgb`` (None for faces without landmarks)."""
        crops = [self.crop(image_rgb, face) for face in faces]
        scored = iter(self.score_crops([c for c in crops if c is not None]))
        return [None if c is None else next(scored) for c in crops]


ATTACK_MODELS: Registry[AttackDetector] = new_registry("attack")


def weights_path() -> Path:
    configured = get_settings().attack_weights
    return configured if configured is not None else DEFAULT_WEIGHTS


ATTACK_MODELS.register(
    "fa3-small",
    lambda: get_attack_detector(),
    description="FA3 (spatial CNN + FFT amplitude/phase stream), trained on synthesized print/replay/mask/digital",
    weights=lambda: str(weights_path()),
    ready=lambda: weights_path().is_file(),
    default=True,
)


def get_attack_detector(weights: str | Path | None = None) -> AttackDetector:
    """The attack model at ``weights`` (default: the configured one), loaded once per process and path."""
    return _load(str(Path(weights) if weights is not None else weights_path()))


@lru_cache(maxsize=4)
def _load(path: str) -> AttackDetector:
    return AttackDetector.from_file(path)
