"""Identity-preserving personalized portraits: ID-EA (ID-Enhancer + ID-Adapter) on textual inversion, with a plain
textual-inversion baseline through the same loop, on a Stable Diffusion model from a local diffusers folder."""

from tools.personalize.api import find_personalization, generate_portraits, personalization_path, train_person
from tools.personalize.types import GenerationResult, ImageScore, PersonalizeOptions, RecognizerScore, TrainReport

__all__ = [
    "GenerationResult",
    "ImageScore",
    "PersonalizeOptions",
    "RecognizerScore",
    "TrainReport",
    "find_personalization",
    "generate_portraits",
    "personalization_path",
    "train_person",
]
