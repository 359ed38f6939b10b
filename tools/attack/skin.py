"""Where the pulse is read: small discs of facial skin on the forehead and both cheeks, placed by the face mesh.

Discs follow the mesh from frame to frame, so head motion moves the region with the face. Pixels that are
nearly black or saturated are dropped (shadows, specular highlights). Without a mesh, fixed fractions of the face
box stand in for the three regions.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tools.faces.types import Face

FOREHEAD, RIGHT_CHEEK, LEFT_CHEEK = 151, 50, 280  # mediapipe mesh point indices
RIGHT_IRIS, LEFT_IRIS = 468, 473
DISC_RADIUS_IOD: Final[float] = 0.3


def skin_centres(face: Face) -> tuple[np.ndarray, float]:
    """(3, 2) pixel centres of the forehead and cheek discs and their radius in pixels."""
    if face.mesh is not None and len(face.mesh) > LEFT_IRIS:
        mesh = face.mesh[:, :2]
        iod = float(np.linalg.norm(mesh[RIGHT_IRIS] - mesh[LEFT_IRIS]))
        return mesh[[FOREHEAD, RIGHT_CHEEK, LEFT_CHEEK]].astype(np.float64), max(1.0, DISC_RADIUS_IOD * iod)
    box = face.box
    w, h = box.width, box.height
    centres = np.array(
        [
            [box.x0 + 0.5 * w, box.y0 + 0.18 * h],
            [box.x0 + 0.28 * w, box.y0 + 0.6 * h],
            [box.x0 + 0.72 * w, box.y0 + 0.6 * h],
        ]
    )
    return centres, max(1.0, 0.1 * w)


def smoothed_regions(faces: list[Face], frames: int = 5) -> list[tuple[np.ndarray, float]]:
    """The skin discs of a track's faces (in time order), averaged over ``frames`` neighbours: the mesh jitters by
    a pixel or so from frame to frame, and a disc that jitters over shading adds noise right in the pulse band."""
    regions = [skin_centres(face) for face in faces]
    if not regions:
        return []
    centres = np.stack([c for c, _ in regions])
    radii = np.array([r for _, r in regions])
    half = frames // 2
    out = []
    for i in range(len(regions)):
        lo, hi = max(0, i - half), min(len(regions), i + half + 1)
        out.append((centres[lo:hi].mean(axis=0), float(radii[lo:hi].mean())))
    return out


def mean_skin_rgb(
    image_rgb: np.ndarray, face: Face, region: tuple[np.ndarray, float] | None = None
) -> np.ndarray | None:
    """Mean RGB (3,) of the skin discs of ``face`` (or of the given ``region``: centres (3, 2), radius) in
    ``image_rgb`` (H, W, 3), or None when none is visible."""
    height, width = image_rgb.shape[:2]
    centres, radius = region if region is not None else skin_centres(face)
    r = int(np.ceil(radius))
    values: list[np.ndarray] = []
    for cx, cy in centres:
        x0, x1 = max(int(cx) - r, 0), min(int(cx) + r + 1, width)
        y0, y1 = max(int(cy) - r, 0), min(int(cy) + r + 1, height)
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
        pixels = image_rgb[y0:y1, x0:x1][inside].astype(np.float64)
        usable = pixels[(pixels.min(axis=1) > 10) & (pixels.max(axis=1) < 250)]
        if len(usable):
            values.append(usable)
    if not values:
        return None
    return np.asarray(np.concatenate(values).mean(axis=0))
