"""The real photos a cloak is evaluated on, each with the box of the face to protect.

Every real face available offline: scikit-image's astronaut, the six people of insightface's t1.jpg, its Tom Hanks
photo, and the 100 face crops of scikit-image's LFW subset (25x25 grey, upscaled to 150 px as a photo a person would
hold, since a 25 px face is below what any recognizer or cloak can use).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from evals.samples import astronaut, group_photo_path, lfw_subset, tom_hanks_path
from tools.faces.pipeline import FaceOptions, analyze_image
from tools.faces.types import Face
from tools.media import load_image

LFW_SIDE_PX = 150


@dataclass
class EvalPhoto:
    """One photo and its faces (detected once, with mesh); ``name`` says where it comes from."""

    name: str
    image: np.ndarray
    faces: list[Face]


def _photo(name: str, image: np.ndarray) -> EvalPhoto:
    return EvalPhoto(name, image, analyze_image(image, FaceOptions(mesh=True, pose=False, embeddings=False)))


def evaluation_photos(limit_lfw: int | None = None) -> Iterator[EvalPhoto]:
    """The photos in a fixed order: astronaut, t1, Tom Hanks, then LFW crops (the first ``limit_lfw`` of them)."""
    yield _photo("astronaut", astronaut())
    yield _photo("t1", load_image(group_photo_path()))
    yield _photo("tom_hanks", load_image(tom_hanks_path()))
    images, is_face = lfw_subset()
    crops = images[is_face][: limit_lfw if limit_lfw is not None else None]
    for index, crop in enumerate(crops):
        grey = cv2.resize(
            (crop * 255).round().astype(np.uint8), (LFW_SIDE_PX, LFW_SIDE_PX), interpolation=cv2.INTER_CUBIC
        )
        yield _photo(f"lfw_{index:03d}", np.repeat(grey[..., None], 3, axis=2))
