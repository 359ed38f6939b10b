"""Turn a face in a photo to another yaw and pitch: a textured 3D rotation of its 478-point mesh.

The face is the mesh's 898 triangles, textured from the photo. Around it, a sheet of anchor rings (hair, ears,
neck, background) is carried along with a fall-off, so that the head region follows the face and the frame
border does not move: the result is pasted back without a seam (the face profiling of 3DDFA/300W-LP, done here on
MediaPipe's mesh). Everything is drawn by one z-buffer (``raster.py``): back faces and occluded parts are hidden.

Where the turn brings into view skin the photo saw badly (stretched: seen at a grazing angle) or not at all
(back-facing or hidden behind the nose), the texture is taken from the mirror-symmetric point of the face, when
that one was seen better; what neither side saw is inpainted (``cv2.inpaint``). The output is a plausible
augmentation, not a measurement of how the person looks from that side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from tools.augment.raster import Raster, rasterize, signed_area2
from tools.augment.topology import SKIN_POINTS, FaceTopology, topology_for
from tools.faces.types import Box

# The forehead-chin line of a level head leans towards the camera by this much (tools/faces/pose.py measured it).
LEAN_DEG = 11.0
# The yaw axis (the neck) stands behind the line between the sides of the face by this share of the face width:
# with the canonical model's depths, the nose tip is then 0.75 face widths in front of it.
PIVOT_BEHIND = 0.1
# Anchor rings around the face outline: (scale about the outline's centre, depth behind it in face widths, share
# of the rotation they follow). The crop border is a last ring that stays fixed.
RINGS = ((1.22, 0.12, 0.9), (1.6, 0.3, 0.45))
CROP_SCALE = 2.3
# Texture choice: the mirror side is used where it saw the triangle this much more densely than the own side.
MIRROR_START, MIRROR_FULL = 1.5, 3.0
VISIBLE_TOLERANCE = 0.03  # of the face width, for the source depth test
MIRROR_SHADING_SIGMA = 0.08  # of the face width: the scale of light the mirrored texture is matched to


@dataclass(frozen=True)
class Turned:
    """One face turned: ``image`` the whole photo with the turned head pasted in; ``mesh`` (478, 3) where the
    rotation put the mesh (the geometric prediction, x/y pixels); ``box`` its extent; ``mirrored_share`` and
    ``inpainted_share`` the parts of the visible face textured from the mirror side and inpainted;
    ``surround_inpainted_share`` the inpainted surroundings (where the face was), relative to the face's area."""

    image: np.ndarray
    yaw_deg: float
    pitch_deg: float
    mesh: np.ndarray
    box: Box
    mirrored_share: float
    inpainted_share: float
    surround_inpainted_share: float
    seconds: float


def face_basis(mesh: np.ndarray) -> np.ndarray:
    """(3, 3) columns: the head's x (towards the subject's left), true up and forward (towards the camera), in image
    coordinates (x right, y down, z away), the forward lean of the chin-forehead line removed."""
    x_axis = mesh[263] - mesh[33]
    x_axis = x_axis / np.linalg.norm(x_axis)
    up = mesh[10] - mesh[152]
    z_axis = np.cross(x_axis, up)
    z_axis /= np.linalg.norm(z_axis)
    y_axis = np.cross(z_axis, x_axis)
    lean = np.radians(LEAN_DEG)
    up_true = np.cos(lean) * y_axis - np.sin(lean) * z_axis
    forward = np.sin(lean) * y_axis + np.cos(lean) * z_axis
    return np.stack([x_axis, up_true, forward], axis=1)


def rotation(basis: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """The image-space rotation turning the head by ``yaw_deg`` (+ = to the subject's left) and ``pitch_deg``
    (+ = up) about its own axes."""
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    r_yaw = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    r_pitch = np.array([[1, 0, 0], [0, np.cos(pitch), np.sin(pitch)], [0, -np.sin(pitch), np.cos(pitch)]])
    return np.asarray(basis @ (r_yaw @ r_pitch) @ basis.T)


@dataclass(frozen=True)
class _Scene:
    """The face and its anchor sheet in crop coordinates, before the turn."""

    points: np.ndarray  # (n, 3): 468 face points, then the rings, then the border
    follow: np.ndarray  # (n,) share of the rotation each point follows
    triangles: np.ndarray  # (m, 3): face triangles first
    face_triangles: int
    origin: np.ndarray  # crop origin in the image
    side: int
    pivot: np.ndarray
    basis: np.ndarray
    width: float


def _scene(mesh: np.ndarray, topology: FaceTopology) -> _Scene:
    points = np.asarray(mesh[:SKIN_POINTS], dtype=np.float64)
    basis = face_basis(np.asarray(mesh, dtype=np.float64))
    width = float(np.linalg.norm(points[454] - points[234]))
    pivot = (points[234] + points[454]) / 2.0 - PIVOT_BEHIND * width * basis[:, 2]
    oval = points[topology.oval]
    centre = oval[:, :2].mean(axis=0)
    extent = float(np.max(oval[:, :2].max(axis=0) - oval[:, :2].min(axis=0)))
    side = int(np.ceil(CROP_SCALE * extent))
    origin = np.floor(centre - side / 2.0)
    local = points - np.array([origin[0], origin[1], 0.0])
    pivot = pivot - np.array([origin[0], origin[1], 0.0])
    rings, follows = [], []
    for scale, behind, follow in RINGS:
        ring = local[topology.oval].copy()
        ring[:, :2] = (centre - origin) + scale * (ring[:, :2] - (centre - origin))
        ring[:, 2] += behind * width
        rings.append(ring)
        follows.append(np.full(len(ring), follow))
    edge = np.linspace(0.0, side - 1.0, 9)[:-1]
    far = float(local[:, 2].max() + width)
    border2d = np.concatenate(
        [
            np.stack([edge, np.zeros_like(edge)], 1),
            np.stack([np.full_like(edge, side - 1.0), edge], 1),
            np.stack([side - 1.0 - edge, np.full_like(edge, side - 1.0)], 1),
            np.stack([np.zeros_like(edge), side - 1.0 - edge], 1),
        ]
    )
    border = np.column_stack([border2d, np.full(len(border2d), far)])
    all_points = np.vstack([local, *rings, border])
    follow_all = np.concatenate([np.ones(len(local)), *follows, np.zeros(len(border))])
    sheet_ids = np.concatenate([topology.oval, SKIN_POINTS + np.arange(len(all_points) - SKIN_POINTS)])
    sheet = Delaunay(all_points[sheet_ids, :2]).simplices
    sheet_triangles = sheet_ids[sheet]
    centroids = all_points[sheet_triangles, :2].mean(axis=1).astype(np.float32)
    outline = local[topology.oval, :2].astype(np.float32).reshape(-1, 1, 2)
    outside = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), False) < 0 for x, y in centroids])
    triangles = np.vstack([topology.triangles, sheet_triangles[outside]])
    return _Scene(all_points, follow_all, triangles, len(topology.triangles), origin, side, pivot, basis, width)


def _turned_points(scene: _Scene, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    out = np.empty_like(scene.points)
    for share in np.unique(scene.follow):
        rows = scene.follow == share
        matrix = rotation(scene.basis, yaw_deg * share, pitch_deg * share)
        out[rows] = (scene.points[rows] - scene.pivot) @ matrix.T + scene.pivot
    return out


def _vertex_mean(values: np.ndarray, triangles: np.ndarray, count: int) -> np.ndarray:
    total = np.zeros(count)
    hits = np.zeros(count)
    for corner in range(3):
        np.add.at(total, triangles[:, corner], values)
        np.add.at(hits, triangles[:, corner], 1.0)
    return total / np.maximum(hits, 1.0)


def _texture_choice(
    scene: _Scene, topology: FaceTopology, turned: np.ndarray, source_raster: Raster
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per face vertex (0..1): the weight of the mirror side's texture, how unknown the texture is, and how much of
    the vertex's own surroundings the photo saw."""
    faces = topology.triangles
    src = scene.points[:SKIN_POINTS]
    src_area = -signed_area2(src[:, :2], faces)  # positive when the photo saw the front of the triangle
    out_area = np.abs(signed_area2(turned[:SKIN_POINTS, :2], faces))
    centroid = src[faces].mean(axis=1)
    cx = np.clip(np.round(centroid[:, 0]).astype(int), 0, scene.side - 1)
    cy = np.clip(np.round(centroid[:, 1]).astype(int), 0, scene.side - 1)
    seen = (src_area > 1e-6) & (centroid[:, 2] <= source_raster.depth[cy, cx] + VISIBLE_TOLERANCE * scene.width)
    # Texels per output pixel, from the triangle itself and from its mirror partner stretched over the same place.
    density = np.where(seen, np.minimum(1.0, src_area / np.maximum(out_area, 1e-6)), 0.0)
    partner = topology.mirror_triangle
    mirror_density = np.where(seen[partner], np.minimum(1.0, src_area[partner] / np.maximum(out_area, 1e-6)), 0.0)
    ratio = mirror_density / np.maximum(density, 1e-6)
    use_mirror = np.clip((ratio - MIRROR_START) / (MIRROR_FULL - MIRROR_START), 0.0, 1.0)
    unknown = (~seen & ~seen[topology.mirror_triangle]).astype(np.float64)
    return (
        _vertex_mean(use_mirror, faces, SKIN_POINTS),
        _vertex_mean(unknown, faces, SKIN_POINTS),
        _vertex_mean(seen.astype(np.float64), faces, SKIN_POINTS),
    )


def _canvas(image_rgb: np.ndarray, origin: np.ndarray, side: int) -> np.ndarray:
    shift = np.array([[1.0, 0.0, -origin[0]], [0.0, 1.0, -origin[1]]])
    return cv2.warpAffine(image_rgb, shift, (side, side), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)


def turn_face(
    image_rgb: np.ndarray, mesh: np.ndarray, yaw_deg: float, pitch_deg: float = 0.0, inpaint: bool = True
) -> Turned:
    """``image_rgb`` (H, W, 3) uint8 with the face of ``mesh`` (478, 3; x/y pixels, z away from the camera in
    pixels) turned by ``yaw_deg`` (+ = to the subject's left) and ``pitch_deg`` (+ = up) about its neck."""
    started = time.perf_counter()
    mesh = np.asarray(mesh, dtype=np.float64)
    basis = face_basis(mesh)
    frame = (mesh[:SKIN_POINTS] - mesh[:SKIN_POINTS].mean(axis=0)) @ basis * np.array([1.0, -1.0, 1.0])
    topology = topology_for(frame)
    scene = _scene(mesh, topology)
    canvas = _canvas(image_rgb, scene.origin, scene.side)
    face_points = scene.points[:SKIN_POINTS]
    source_raster = rasterize(
        face_points[:, :2], face_points[:, 2], topology.triangles, (scene.side, scene.side), _all(scene.face_triangles)
    )
    turned = _turned_points(scene, yaw_deg, pitch_deg)
    raster = _layered(scene, turned)
    mirror_weight, unknown, own_seen = _texture_choice(scene, topology, turned, source_raster)
    own_xy = scene.points[:, :2]
    mirror_xy = own_xy.copy()
    mirror_xy[:SKIN_POINTS] = own_xy[topology.mirror]
    weights = np.zeros((len(scene.points), 3))
    weights[:SKIN_POINTS, 0] = mirror_weight
    weights[:SKIN_POINTS, 1] = unknown
    weights[:SKIN_POINTS, 2] = own_seen
    attributes = raster.interpolate(np.hstack([own_xy, mirror_xy, weights]), scene.triangles)
    face_pixels = raster.covered & (raster.triangle < scene.face_triangles)
    alpha = np.where(face_pixels, attributes[..., 4], 0.0)[..., None]
    result = _sample(canvas, raster, attributes[..., 0:2]).astype(np.float64)
    if float(alpha.max()) > 0.0:
        mirrored = _sample(canvas, raster, attributes[..., 2:4]).astype(np.float64)
        lit = face_pixels & (attributes[..., 6] > 0.5)
        mirrored = match_shading(mirrored, result, lit, MIRROR_SHADING_SIGMA * scene.width)
        result = (1.0 - alpha) * result + alpha * mirrored
    crop = np.clip(np.round(result), 0, 255).astype(np.uint8)
    face_hole = face_pixels & (attributes[..., 5] > 0.5)
    # The surroundings must not show the face itself: where they would sample what the photo's face covered (a
    # nose standing out past the outline, the place the face turned away from), nothing behind it is known.
    sx = np.clip(np.round(attributes[..., 0]).astype(int), 0, scene.side - 1)
    sy = np.clip(np.round(attributes[..., 1]).astype(int), 0, scene.side - 1)
    surround_hole = ~face_pixels & (source_raster.covered[sy, sx] | ~raster.covered)
    if inpaint:
        crop = fill_holes(crop, face_hole, surround_hole, face_pixels)
    out = _paste(image_rgb, crop, scene.origin)
    face_count = max(int(face_pixels.sum()), 1)
    predicted = _predicted_mesh(mesh, scene, yaw_deg, pitch_deg)
    low, high = predicted[:, :2].min(axis=0), predicted[:, :2].max(axis=0)
    box = Box(float(low[0]), float(low[1]), float(high[0]), float(high[1]))
    return Turned(
        image=out,
        yaw_deg=float(yaw_deg),
        pitch_deg=float(pitch_deg),
        mesh=predicted.astype(np.float32),
        box=box,
        mirrored_share=float((alpha[..., 0] > 0.5).sum() / face_count),
        inpainted_share=float(face_hole.sum() / face_count),
        surround_inpainted_share=float(surround_hole.sum() / face_count),
        seconds=time.perf_counter() - started,
    )


def match_shading(detail: np.ndarray, shading: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """``detail`` (the mirror side's texture) relit to the low-frequency colour of ``shading`` (the own texture:
    blurred where stretched, but lit as this side of the face is), measured where ``mask`` (the photo saw this
    side) and spread to its neighbourhood: the mirrored cheek keeps its pores, not the other side's light."""
    weight = cv2.GaussianBlur(mask.astype(np.float64), (0, 0), sigma)[..., None]
    masked = mask[..., None].astype(np.float64)
    low_shading = cv2.GaussianBlur(shading * masked, (0, 0), sigma) / np.maximum(weight, 1e-3)
    low_detail = cv2.GaussianBlur(detail * masked, (0, 0), sigma) / np.maximum(weight, 1e-3)
    gain = np.clip(low_shading / np.maximum(low_detail, 1.0), 0.6, 1.6)
    return np.asarray(np.where(weight > 0.05, detail * gain, detail))


def fill_holes(crop: np.ndarray, face_hole: np.ndarray, surround_hole: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Inpaint what the photo never showed. Inside the face: Telea inpainting. Where the face turned away from
    (the side of the head comes into view there, skin then hair): the colour of the nearest face pixel, smoothed,
    fading into Telea inpainting from the surroundings with the distance from the face, instead of background
    colour drawn up to the cheek."""
    out = crop
    if face_hole.any():
        out = cv2.inpaint(out, face_hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    if not surround_hole.any() or not face.any():
        return out
    # Inpainted from the surroundings alone: the face is masked too, so it does not bleed in twice.
    from_around = cv2.inpaint(out, (surround_hole | face).astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    not_face = (~face).astype(np.uint8)
    to_face, labels = cv2.distanceTransformWithLabels(not_face, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    face_ys, face_xs = np.nonzero(not_face == 0)  # labels number the zero pixels in this (row-major) order
    nearest = out[face_ys[labels - 1], face_xs[labels - 1]]
    nearest = cv2.GaussianBlur(nearest, (0, 0), 3.0)
    known_around = (~face & ~surround_hole).astype(np.uint8)
    to_around = cv2.distanceTransform(1 - known_around, cv2.DIST_L2, 5)
    weight = (to_around / np.maximum(to_face + to_around, 1e-6))[..., None]  # 1 at the face, 0 at the surroundings
    blended = weight * nearest.astype(np.float64) + (1.0 - weight) * from_around.astype(np.float64)
    result = out.copy()
    result[surround_hole] = np.clip(np.round(blended[surround_hole]), 0, 255).astype(np.uint8)
    return result


def _all(count: int) -> np.ndarray:
    return np.ones(count, dtype=bool)


def _layered(scene: _Scene, turned: np.ndarray) -> Raster:
    """The face (back faces culled, z-buffered) drawn over its surroundings (a sheet that may fold: z-buffered,
    never culled): hair and background stand behind the face."""
    shape = (scene.side, scene.side)
    faces = scene.triangles[: scene.face_triangles]
    sheet = scene.triangles[scene.face_triangles :]
    front = rasterize(turned[:, :2], turned[:, 2], faces, shape, _all(len(faces)))
    back = rasterize(turned[:, :2], turned[:, 2], sheet, shape, ~_all(len(sheet)))
    use_front = front.covered
    triangle = np.where(use_front, front.triangle, np.where(back.covered, back.triangle + scene.face_triangles, -1))
    bary = np.where(use_front[..., None], front.bary, back.bary)
    depth = np.where(use_front, front.depth, back.depth)
    return Raster(triangle, bary, depth)


def _sample(canvas: np.ndarray, raster: Raster, source_xy: np.ndarray) -> np.ndarray:
    """``canvas`` sampled at ``source_xy`` (h, w, 2) where a triangle covers the pixel, else at the pixel itself."""
    side = canvas.shape[0]
    grid = np.stack(np.meshgrid(np.arange(side, dtype=np.float64), np.arange(side, dtype=np.float64)), -1)
    maps = np.where(raster.covered[..., None], source_xy, grid).astype(np.float32)
    return cv2.remap(canvas, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _predicted_mesh(mesh: np.ndarray, scene: _Scene, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """All 478 points (irises too) where the rotation puts them, in image pixels."""
    offset = np.array([scene.origin[0], scene.origin[1], 0.0])
    matrix = rotation(scene.basis, yaw_deg, pitch_deg)
    return np.asarray((mesh - offset - scene.pivot) @ matrix.T + scene.pivot + offset)


def _paste(image_rgb: np.ndarray, crop: np.ndarray, origin: np.ndarray) -> np.ndarray:
    out = image_rgb.copy()
    height, width = image_rgb.shape[:2]
    ox, oy = int(origin[0]), int(origin[1])
    side = crop.shape[0]
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + side, width), min(oy + side, height)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = crop[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return out
