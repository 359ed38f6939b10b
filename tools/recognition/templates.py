"""Validation shared by every gallery (plaintext and encrypted): identity names and identity templates."""

from __future__ import annotations

import numpy as np

from tools.errors import GalleryError


def clean_identity_name(name: str) -> str:
    """``name`` with runs of white space folded; an empty name is an error."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise GalleryError("an identity needs a non-empty name")
    return cleaned


def unit_templates(embeddings: np.ndarray) -> np.ndarray:
    """L2-normalised float32 rows (n, dim) from ``embeddings``; empty, non-finite or zero vectors are errors."""
    vectors = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
    if vectors.ndim != 2 or vectors.shape[0] == 0 or vectors.shape[1] == 0:
        raise GalleryError(f"templates must be a non-empty (n, dim) array, got shape {vectors.shape}")
    if not np.all(np.isfinite(vectors)):
        raise GalleryError("templates contain NaN or infinite values")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise GalleryError("a template is the zero vector")
    return (vectors / norms).astype(np.float32)
