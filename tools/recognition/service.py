"""Enrolling people from photos and naming the people in a file, over any ``IdentityGallery``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.errors import MienError, NoFaceError
from tools.faces.pipeline import FaceOptions, VideoFaces, analyze_file, analyze_image, get_default_embedder
from tools.faces.types import Face
from tools.media import load_image
from tools.recognition.types import Identity, IdentityGallery


@dataclass(frozen=True)
class EnrollmentResult:
    """How many templates were added for ``name`` and how many it has now."""

    name: str
    added: int
    total: int
    embedder: str


def single_face_embedding(
    path: str | Path, embedder: str | None = None, largest: bool = False
) -> tuple[Face, np.ndarray]:
    """The one face of a photo and its embedding. Several faces are an error unless ``largest`` picks one."""
    image = load_image(path)
    faces = analyze_image(image, FaceOptions(mesh=True, pose=False, embeddings=True, embedder=embedder))
    if not faces:
        raise NoFaceError(f"{path}: no face found")
    if len(faces) > 1 and not largest:
        raise MienError(f"{path}: {len(faces)} faces found; enrollment needs a photo of one person (or --largest)")
    face = max(faces, key=lambda f: f.box.area)
    assert face.embedding is not None
    return face, face.embedding


def enroll_photos(
    gallery: IdentityGallery, name: str, paths: Sequence[str | Path], embedder: str | None = None, largest: bool = False
) -> EnrollmentResult:
    """Embed one face per photo, then enroll all templates in one write (all or nothing)."""
    backend = get_default_embedder(embedder)
    vectors = [single_face_embedding(p, backend.name, largest)[1] for p in paths]
    total = gallery.enroll(name, np.stack(vectors), backend.name)
    return EnrollmentResult(name, len(vectors), total, backend.name)


def identify_people(
    gallery: IdentityGallery, path: str | Path, fps: float | None = None, embedder: str | None = None
) -> tuple[VideoFaces, list[Identity]]:
    """Every person (track) in an image or video, each with its ``Identity`` (unknown below the threshold).

    The track's ``identity`` fields and its faces' are filled in too.
    """
    backend = get_default_embedder(embedder)
    result = analyze_file(path, FaceOptions(embedder=backend.name), fps=fps)
    return result, name_tracks(gallery, result)


def name_tracks(gallery: IdentityGallery, result: VideoFaces) -> list[Identity]:
    """Identify each track of ``result`` against ``gallery`` and write the names onto tracks and faces."""
    backend = get_default_embedder(result.embedder or None)
    identities = []
    for track in result.tracks:
        if track.embedding is None:
            identity = Identity(None, 0.0, backend.match_threshold, "plaintext", backend.name)
        else:
            identity = gallery.identify(track.embedding, backend.name, backend.match_threshold)
        track.identity, track.identity_score = identity.name, identity.score
        for face in track.faces:
            face.identity, face.identity_score = identity.name, identity.score
        identities.append(identity)
    return identities
