"""Real photos and their faces, found once per test session with the project's face pipeline."""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from evals import clips, samples
from tools.expression.fer_model import FerExpressionModel
from tools.faces import FaceOptions, analyze_image
from tools.faces.types import Face
from tools.media import load_image

FACE_OPTIONS = FaceOptions(embeddings=False, pose=False)


@lru_cache(maxsize=1)
def fer_model() -> FerExpressionModel:
    return FerExpressionModel.from_package()


@cache
def photo(name: str) -> np.ndarray:
    """``astronaut``, ``group`` (t1.jpg), ``tom_hanks``, or ``person0``..``person5`` (t1.jpg head crops)."""
    if name == "astronaut":
        return samples.astronaut()
    if name == "group":
        return load_image(samples.group_photo_path())
    if name == "tom_hanks":
        return load_image(samples.tom_hanks_path())
    if name.startswith("person"):
        return clips.group_person(int(name.removeprefix("person")))
    raise KeyError(name)


@cache
def faces_in(name: str) -> tuple[Face, ...]:
    """The faces of ``photo(name)``, left to right, with their 478-point meshes."""
    return tuple(analyze_image(photo(name), FACE_OPTIONS))


def only_face(image: np.ndarray) -> Face:
    """The one face of an image (the largest if the detector finds more)."""
    faces = analyze_image(image, FACE_OPTIONS)
    assert faces, "no face found"
    return max(faces, key=lambda f: f.box.area)


def mesh_of(face: Face) -> np.ndarray:
    """The face's (478, 3) mesh; the face pipeline gives every face it finds in these photos one."""
    assert face.mesh is not None, "the face has no mesh"
    return face.mesh
