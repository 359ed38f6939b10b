"""The preselection projection: a few coordinates that rank templates, and a bound on what they miss.

For an orthonormal basis ``W`` (m, dim) and unit vectors p (probe) and t (template), with residuals
``r = v - Wᵀ W v``::

    <p, t> = <W p, W t> + <r_p, r_t>   and   |<r_p, r_t>| <= |r_p| |r_t|    (Cauchy-Schwarz)

The server computes the *estimate* ``<W p, W t>`` under encryption (the preselection features of a template are
its coordinates ``W t``); the key owner ranks candidates by it, and adds ``|r_p| |r_t|`` (``|r_t|`` kept with
the names, computed at enrollment; 1 when unknown) to get an *upper bound* of every template's cosine. After the
full scores of the candidates are known, a template whose bound is below the best full score provably cannot be
the top-1: this lets a search say whether its answer is certified identical to an exhaustive search.

Ranking by the estimate rather than by the bound matters for near-orthogonal embeddings (ArcFace-like 512-d):
there the residual term is ~0.9 and varies by template more than the estimates differ, and ranking by the bound
put the true match as low as 562nd among 10,000 in a simulation, by the estimate 14th (64 coordinates) or 1st
(128 coordinates).

``W`` is an uncentered PCA of enrolled templates, fitted by the key owner (the server never sees it in the clear:
it is stored with the gallery encrypted, with its SHA-256 as a check). Before there are enough templates to fit
one, the basis is completed with a fixed random orthonormal complement; the first compaction refits it on every
template enrolled by then. Basis values are quantized to multiples of 2^-24 so that the key owner recovers
exactly the same basis after a CKKS round trip (whose error is ~1e-9).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from tools.errors import CryptoError, GalleryError

GRID_BITS = 24
_GRID = float(2**GRID_BITS)
_COMPLETION_SEED = 20240607


@dataclass(frozen=True)
class Projection:
    """An orthonormal basis (m, dim) of preselection coordinates, quantized to a 2^-24 grid."""

    basis: np.ndarray

    @property
    def coordinates(self) -> int:
        return int(self.basis.shape[0])

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    def features(self, vectors: np.ndarray) -> np.ndarray:
        """Preselection features (n, m) = W v of unit vectors (n, dim)."""
        return self._matrix(vectors) @ self.basis.T

    def residual_norms(self, vectors: np.ndarray) -> np.ndarray:
        """|v - Wᵀ W v| (n,) of unit vectors (n, dim): what the features miss."""
        matrix = self._matrix(vectors)
        return np.asarray(np.linalg.norm(matrix - (matrix @ self.basis.T) @ self.basis, axis=1))

    def _matrix(self, vectors: np.ndarray) -> np.ndarray:
        matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        if matrix.shape[1] != self.dim:
            raise GalleryError(f"vectors have {matrix.shape[1]} dimensions, the projection expects {self.dim}")
        return matrix

    def flat_values(self) -> np.ndarray:
        """The basis row by row (m * dim,), for encryption."""
        return self.basis.reshape(-1).astype(np.float64)

    def fingerprint(self) -> str:
        """SHA-256 of the quantized basis and its shape: identifies it without revealing it."""
        grid = np.rint(self.basis * _GRID).astype("<i8")
        return hashlib.sha256(np.asarray(self.basis.shape, dtype="<i8").tobytes() + grid.tobytes()).hexdigest()

    @classmethod
    def from_flat(cls, values: np.ndarray, coordinates: int, dim: int, fingerprint: str) -> Projection:
        """Rebuild the basis from decrypted values and check it against ``fingerprint``."""
        flat = np.asarray(values, dtype=np.float64).reshape(-1)[: coordinates * dim]
        if flat.size != coordinates * dim or not np.all(np.abs(flat) <= 1.0 + 1e-6):
            projection = None
        else:
            projection = cls(_quantize(flat.reshape(coordinates, dim)))
        if projection is None or projection.fingerprint() != fingerprint:
            raise CryptoError(
                "the gallery's projection does not decrypt to the basis it was stored with: it was encrypted under "
                "another key or damaged"
            )
        return projection


def fit_projection(templates: np.ndarray, coordinates: int) -> Projection:
    """An uncentered PCA basis with ``coordinates`` rows, fitted on unit templates (n, dim).

    Face embeddings share a large common direction (dlib's average pairwise cosine is ~0.86), which an
    uncentered PCA keeps as its first axis. With fewer templates than rows, the remaining rows are a fixed
    random orthonormal complement.
    """
    matrix = np.atleast_2d(np.asarray(templates, dtype=np.float64))
    dim = matrix.shape[1]
    if not 1 <= coordinates <= dim:
        raise GalleryError(f"cannot project {dim}-d templates onto {coordinates} coordinates")
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    keep = vt[: min(coordinates, int(np.sum(singular > 1e-9 * max(float(singular[0]), 1e-300))))]
    if keep.shape[0] < coordinates:
        rng = np.random.default_rng(_COMPLETION_SEED)
        extra = rng.normal(size=(coordinates - keep.shape[0], dim))
        extra -= (extra @ keep.T) @ keep
        q, _ = np.linalg.qr(extra.T)
        keep = np.vstack([keep, q.T[: coordinates - keep.shape[0]]])
    return Projection(_quantize(keep))


def _quantize(basis: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(basis, dtype=np.float64) * _GRID) / _GRID
