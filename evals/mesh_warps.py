"""Controlled expression changes on real photos: piecewise-affine warps driven by the face mesh.

A displacement is given for every mesh point (iris points excluded: they are not skin); the border of a square
around the face stays fixed, so only the face moves. The warped image is a real photo whose mouth corners, brows
or eyelids have moved by a known amount, which the expression model and the AU estimates must then notice after
the mesh is recomputed from the new pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
from scipy.spatial import Delaunay

from tools.expression.action_units import face_frame

IRIS = range(468, 478)
SKIN = np.array([i for i in range(478) if i not in IRIS])
MOUTH_CORNERS = (61, 291)
BROWS = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
UPPER_LIDS = (246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398)
LOWER_LIDS = (7, 163, 144, 145, 153, 154, 155, 249, 390, 373, 374, 380, 381, 382)

Displacement = Callable[[np.ndarray], np.ndarray]
"""(478, 3) pixel mesh -> (478, 2) pixel displacement of every point."""


def _gaussian_pull(mesh: np.ndarray, centres: Sequence[int], vectors: np.ndarray, sigma_px: float) -> np.ndarray:
    """Each point moves by the Gaussian-weighted sum of the centres' vectors, normalised where weights add past 1,
    so a centre moves by its own vector and its neighbourhood follows with a fall-off of ``sigma_px``."""
    points = mesh[:, :2]
    weights = np.stack(
        [np.exp(-np.sum((points - points[c]) ** 2, axis=1) / (2 * sigma_px**2)) for c in centres], axis=1
    )  # (478, len(centres))
    total = weights.sum(axis=1, keepdims=True)
    return np.asarray(weights @ vectors / np.maximum(total, 1.0))


def _axes(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The face's image-plane right and down unit vectors and its inter-ocular distance in pixels."""
    _, rotation, iod = face_frame(mesh)
    right = rotation[0, :2] / np.linalg.norm(rotation[0, :2])
    down = np.array([-right[1], right[0]])
    return right, down, iod


def raise_mouth_corners(amount_iod: float) -> Displacement:
    """Mouth corners up (and a little outwards) by ``amount_iod`` inter-ocular distances: a smile."""

    def displacement(mesh: np.ndarray) -> np.ndarray:
        right, down, iod = _axes(mesh)
        vectors = np.stack([-down - 0.3 * right, -down + 0.3 * right]) * amount_iod * iod
        return _gaussian_pull(mesh, MOUTH_CORNERS, vectors, 0.12 * iod)

    return displacement


def lower_brows(amount_iod: float) -> Displacement:
    """Both brows down by ``amount_iod`` inter-ocular distances, the inner ends a little towards each other."""

    def displacement(mesh: np.ndarray) -> np.ndarray:
        right, down, iod = _axes(mesh)
        centre_x = float(np.dot(mesh[list(BROWS), :2].mean(axis=0), right))
        vectors = []
        for index in BROWS:
            inward = -np.sign(float(np.dot(mesh[index, :2], right)) - centre_x) * right
            vectors.append((down + 0.2 * inward) * amount_iod * iod)
        return _gaussian_pull(mesh, BROWS, np.array(vectors), 0.08 * iod)

    return displacement


def close_eyes(fraction: float) -> Displacement:
    """Upper eyelids moved ``fraction`` of the way down to the lower lids; lower lids and everything below stay."""

    def displacement(mesh: np.ndarray) -> np.ndarray:
        _, down, iod = _axes(mesh)
        vectors = (mesh[list(LOWER_LIDS), :2] - mesh[list(UPPER_LIDS), :2]) * fraction
        out = _gaussian_pull(mesh, UPPER_LIDS, vectors, 0.05 * iod)
        lid_depth = np.array([np.dot(mesh[i, :2], down) for i in LOWER_LIDS]).min()
        below = mesh[:, :2] @ down >= lid_depth - 0.01 * iod
        out[below] = 0.0
        out[list(UPPER_LIDS)] = vectors
        return out

    return displacement


def warp_face(image_rgb: np.ndarray, mesh: np.ndarray, displacement: Displacement, margin: float = 0.6) -> np.ndarray:
    """``image_rgb`` (H, W, 3) uint8 with the face's mesh points moved by ``displacement(mesh)`` (478, 2) pixels.

    Piecewise affine: the moved points and a fixed border are triangulated (Delaunay); every output pixel takes
    the barycentric coordinates of its triangle back to the same triangle before the move, and is sampled there.
    """
    points = np.asarray(mesh, dtype=np.float64)
    x0, y0 = points[:, :2].min(axis=0)
    x1, y1 = points[:, :2].max(axis=0)
    pad = margin * max(x1 - x0, y1 - y0)
    height, width = image_rgb.shape[:2]
    cx0, cy0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    cx1, cy1 = int(min(width, x1 + pad)), int(min(height, y1 + pad))
    crop = np.ascontiguousarray(image_rgb[cy0:cy1, cx0:cx1])
    h, w = crop.shape[:2]
    edge = np.linspace(0.0, 1.0, 9)
    border = np.concatenate(
        [
            np.stack([edge * (w - 1), np.zeros_like(edge)], 1),
            np.stack([edge * (w - 1), np.full_like(edge, h - 1)], 1),
            np.stack([np.zeros_like(edge), edge * (h - 1)], 1),
            np.stack([np.full_like(edge, w - 1), edge * (h - 1)], 1),
        ]
    )
    src = np.vstack([points[SKIN, :2] - [cx0, cy0], border])
    dst = np.vstack([points[SKIN, :2] - [cx0, cy0] + displacement(points)[SKIN], border])
    triangles = Delaunay(dst)
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)), -1).reshape(-1, 2)
    simplex = triangles.find_simplex(grid)
    inside = simplex >= 0
    affine = triangles.transform[simplex[inside]]  # (m, 3, 2): inverse matrix rows then offset
    bary2 = np.einsum("mij,mj->mi", affine[:, :2], grid[inside] - affine[:, 2])
    bary = np.column_stack([bary2, 1.0 - bary2.sum(axis=1)])
    vertices = triangles.simplices[simplex[inside]]  # (m, 3)
    source = grid.copy()
    source[inside] = np.einsum("mk,mkd->md", bary, src[vertices])
    maps = source.reshape(h, w, 2).astype(np.float32)
    warped = cv2.remap(crop, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = image_rgb.copy()
    out[cy0:cy1, cx0:cx1] = warped
    return out


def smile_amount(
    time_s: float,
    onset_s: float = 1.0,
    apex_s: float = 1.6,
    offset_s: float = 2.6,
    end_s: float = 3.2,
    peak_iod: float = 0.15,
) -> float:
    """A smile's time course: neutral, rising from ``onset_s`` to ``apex_s``, held, relaxing until ``end_s``."""
    if time_s <= onset_s or time_s >= end_s:
        return 0.0
    if time_s < apex_s:
        return peak_iod * (time_s - onset_s) / (apex_s - onset_s)
    if time_s <= offset_s:
        return peak_iod
    return peak_iod * (end_s - time_s) / (end_s - offset_s)


def smile_clip_frames(seconds: float = 4.0, fps: float = 10.0, size: tuple[int, int] = (640, 360)) -> list[np.ndarray]:
    """Frames of two real people side by side: t1.jpg's Monica (left), whose mouth corners are warped up and down
    again following ``smile_amount``, and the astronaut (right), unchanged. The rest of the frame is still."""
    from evals.clips import astronaut_head, background, group_person
    from tools.faces import FaceOptions, analyze_image

    width, height = size
    canvas = background(width, height)

    def fitted(image: np.ndarray, target_h: int) -> np.ndarray:
        scale = target_h / image.shape[0]
        return cv2.resize(image, (round(image.shape[1] * scale), target_h), interpolation=cv2.INTER_LINEAR)

    left = fitted(group_person(1), int(height * 0.8))
    right = fitted(astronaut_head(), int(height * 0.8))
    mesh = analyze_image(left, FaceOptions(embeddings=False, pose=False))[0].mesh
    assert mesh is not None
    y0 = (height - left.shape[0]) // 2
    canvas[y0 : y0 + right.shape[0], width - right.shape[1] - 20 : width - 20] = right
    frames = []
    for index in range(round(seconds * fps)):
        amount = smile_amount(index / fps)
        face = warp_face(left, mesh, raise_mouth_corners(amount)) if amount > 0 else left
        frame = canvas.copy()
        frame[y0 : y0 + face.shape[0], 20 : 20 + face.shape[1]] = face
        frames.append(frame)
    return frames
