"""The real faces the pose evaluation turns, and the recognizers that judge them.

Faces: scikit-image's astronaut, the six people of insightface's t1.jpg, insightface's Tom Hanks, and the first
faces of scikit-image's LFW subset (25 px grey crops, upscaled 4x and edge-padded so the mesh model can read them:
the turned renders of those are poor, and the table keeps them apart). Recognizers: every embedder of the registry
whose weights are here (dlib-resnet always; ArcFace when configured) and dlib-bin, dlib's own C++ network, reached
through its own shape predictor and chip code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tools.faces.pipeline import FaceOptions, analyze_image
from tools.faces.types import Box, Face

GEOMETRY = FaceOptions(mesh=True, pose=False, embeddings=False)
LFW_UPSCALE = 4
LFW_PAD = 50


@dataclass(frozen=True)
class SampleFace:
    """One face: the photo it is in, its mesh and box, and which set it belongs to ("photos" or "lfw")."""

    name: str
    group: str
    image: np.ndarray
    face: Face

    @property
    def mesh(self) -> np.ndarray:
        assert self.face.mesh is not None
        return self.face.mesh


@dataclass(frozen=True)
class Recognizer:
    """A face recognizer as the evaluation uses it: L2-normalised vector of the face at ``face.box``."""

    name: str
    threshold: float
    embed: Callable[[np.ndarray, Face], np.ndarray]


def _meshed(image: np.ndarray) -> list[Face]:
    return [f for f in analyze_image(image, GEOMETRY) if f.mesh is not None]


def photo_faces() -> list[SampleFace]:
    """The astronaut, the six t1.jpg faces (left to right) and Tom Hanks, each with its mesh."""
    from evals.samples import astronaut, group_photo_path, tom_hanks_path
    from tools.media import load_image

    out = [SampleFace("astronaut", "photos", astronaut(), _meshed(astronaut())[0])]
    group = load_image(group_photo_path())
    out += [SampleFace(f"t1 face {i}", "photos", group, f) for i, f in enumerate(_meshed(group), start=1)]
    hanks = load_image(tom_hanks_path())
    out.append(SampleFace("Tom Hanks", "photos", hanks, _meshed(hanks)[0]))
    return out


def lfw_faces(count: int) -> list[SampleFace]:
    """The first ``count`` LFW-subset faces the mesh model accepts, as 200 px RGB images."""
    from evals.samples import lfw_subset

    images, is_face = lfw_subset()
    out: list[SampleFace] = []
    for index in np.flatnonzero(is_face):
        if len(out) >= count:
            break
        grey = (np.clip(images[index], 0.0, 1.0) * 255).astype(np.uint8)
        side = grey.shape[0] * LFW_UPSCALE
        big = cv2.resize(grey, (side, side), interpolation=cv2.INTER_CUBIC)
        rgb = np.pad(np.stack([big] * 3, axis=-1), ((LFW_PAD, LFW_PAD), (LFW_PAD, LFW_PAD), (0, 0)), mode="edge")
        faces = _meshed(rgb)
        if faces:
            out.append(SampleFace(f"lfw {index}", "lfw", rgb, faces[0]))
    return out


def recognizers() -> list[Recognizer]:
    """Every recognizer available here: the registry's ready embedders, then dlib-bin when dlib is installed."""
    import importlib.util

    from tools.faces.embedders import EMBEDDERS

    out = []
    for entry in EMBEDDERS.entries():
        if not entry.ready():
            continue
        embedder = EMBEDDERS.build(entry.name)

        def embed(image: np.ndarray, face: Face, embedder: object = embedder) -> np.ndarray:
            probe = Face(face.box, 1.0, landmarks5=face.landmarks5)
            return np.asarray(embedder.embed(image, [probe])[0], dtype=np.float64)  # type: ignore[attr-defined]

        out.append(Recognizer(entry.name, float(embedder.match_threshold), embed))
    if importlib.util.find_spec("dlib") is not None:
        from evals.cloak.dlib_judge import descriptor
        from tools.faces.dlib_resnet.embedder import DLIB_MATCH_THRESHOLD

        def dlib_bin(image: np.ndarray, face: Face) -> np.ndarray:
            vector = descriptor(image, face.box)
            return vector / np.linalg.norm(vector)

        out.append(Recognizer("dlib-bin", float(DLIB_MATCH_THRESHOLD), dlib_bin))
    return out


def matching_face(faces: list[Face], box: Box, min_iou: float = 0.3) -> Face | None:
    """The detected face overlapping ``box`` most, if it overlaps at least ``min_iou``."""
    best = max(faces, key=lambda f: f.box.iou(box), default=None)
    return best if best is not None and best.box.iou(box) >= min_iou else None
