"""The shared types of personalization: what to learn (options), what was learned (report), what was generated."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Method = Literal["id-ea", "textual-inversion"]

# diffusers' textual-inversion object templates (the "small" set), which a portrait also fits.
DEFAULT_TEMPLATES: tuple[str, ...] = (
    "a photo of a {}",
    "a rendering of a {}",
    "a cropped photo of the {}",
    "a close-up photo of a {}",
    "a bright photo of the {}",
    "a good photo of a {}",
    "a portrait of {}",
    "a photo of {}",
)


@dataclass(frozen=True)
class PersonalizeOptions:
    """How to learn a person.

    ``method`` "id-ea" trains the ID-Enhancer, the ID-Adapter and the UNet's cross-attention key/value weights;
    "textual-inversion" (the baseline) trains only the pseudo-token embeddings, through the same loop. ``tokens`` is
    the number of pseudo-tokens the placeholder stands for; ``resolution`` the side of the face crops (None: the
    model's native size, 512 for SD 1.x);
    learning rates are per parameter group (the UNet's weights move much less than embeddings).
    """

    method: Method = "id-ea"
    steps: int = 400
    batch_size: int = 1
    tokens: int = 1
    resolution: int | None = None
    seed: int = 0
    token_lr: float = 5e-3
    module_lr: float = 1e-4
    unet_lr: float = 1e-5
    templates: tuple[str, ...] = DEFAULT_TEMPLATES
    embedder: str | None = None


@dataclass(frozen=True)
class TrainReport:
    """What one training run did: the losses per step, seconds per step (the speed comparison), the saved file."""

    name: str
    method: Method
    steps: int
    losses: list[float]
    seconds_per_step: float
    seconds: float
    photos: list[str]
    trainable_parameters: int
    file: str | None = None
    file_bytes: int | None = None
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["losses"] = [round(v, 6) for v in self.losses]
        out["seconds_per_step"] = round(self.seconds_per_step, 4)
        out["seconds"] = round(self.seconds, 3)
        return out


@dataclass(frozen=True)
class RecognizerScore:
    """Identity similarity of one generated image to the reference photos, for one recognizer.

    ``similarity`` is the cosine similarity of the generated face to the mean reference embedding (None when no face
    was found in the generated image: reported, never guessed); ``same_person`` compares it with the recognizer's own
    threshold.
    """

    recognizer: str
    similarity: float | None
    threshold: float
    same_person: bool | None
    note: str = ""


@dataclass(frozen=True)
class ImageScore:
    """One generated image: its identity scores per recognizer and, with a CLIP model, its prompt fidelity."""

    file: str
    faces_found: int
    recognizers: list[RecognizerScore] = field(default_factory=list)
    clip_score: float | None = None


@dataclass(frozen=True)
class GenerationResult:
    """Images written for one prompt, and how they score."""

    name: str
    prompt: str
    files: list[str]
    seconds: float
    method: Method
    scores: list[ImageScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        return out
