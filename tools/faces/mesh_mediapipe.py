"""The 478-point face mesh (mediapipe FaceMesh with refined iris landmarks), run on each detected face's crop.

Running the mesh per crop, rather than on the whole frame, ties each mesh to one of our detections (FaceMesh's
own detector misses small faces) and keeps cost proportional to the number of faces.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np

from tools.faces.mediapipe_quiet import solutions
from tools.faces.types import Box, Face

CROP_EXPANSION = 1.7
CROP_SIDE_PX = 256
# The crop is larger than the box, so the mesh may land on a neighbouring face; it must overlap the box this much.
MIN_MESH_BOX_IOU = 0.3

# Mesh indices of the points that make the 5-point alignment template (outer and inner eye corners are averaged).
EYE_A = (33, 133)
EYE_B = (362, 263)
NOSE_TIP = 1
MOUTH_A = 61
MOUTH_B = 291


class MediapipeMesh:
    """Adds ``Face.mesh`` (478, 3) in frame pixels and ``Face.landmarks5`` derived from it."""

    name = "mediapipe-mesh"

    def __init__(self, min_score: float = 0.3) -> None:
        self._mesh = solutions().face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=min_score
        )
        self._lock = threading.Lock()

    def add_landmarks(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> None:
        """Fill ``mesh`` and ``landmarks5`` of every face whose crop the mesh model accepts; others stay None."""
        for face in faces:
            mesh = self._mesh_for(image_rgb, face)
            if mesh is not None:
                face.mesh = mesh
                face.landmarks5 = five_points_from_mesh(mesh)

    def _mesh_for(self, image_rgb: np.ndarray, face: Face) -> np.ndarray | None:
        box = face.box.expanded(CROP_EXPANSION)
        side = max(box.width, box.height)
        cx, cy = box.center
        x0, y0 = cx - side / 2.0, cy - side / 2.0
        scale = CROP_SIDE_PX / side
        # An affine crop pads with black outside the frame, so faces at the border still get a square crop.
        matrix = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]], dtype=np.float64)
        crop = cv2.warpAffine(image_rgb, matrix, (CROP_SIDE_PX, CROP_SIDE_PX), flags=cv2.INTER_LINEAR)
        with self._lock:
            result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        points = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], dtype=np.float32)
        points *= CROP_SIDE_PX
        points[:, 0] = points[:, 0] / scale + x0
        points[:, 1] = points[:, 1] / scale + y0
        points[:, 2] = points[:, 2] / scale
        mesh_box = Box(
            float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max())
        )
        return points if mesh_box.iou(face.box) >= MIN_MESH_BOX_IOU else None


def five_points_from_mesh(mesh: np.ndarray) -> np.ndarray:
    """(5, 2): eye, eye, nose tip, mouth corner, mouth corner, each pair ordered image-left first.

    That is the order of the ArcFace alignment template (for a frontal face, the subject's right eye first).
    """
    eye_a = mesh[list(EYE_A), :2].mean(axis=0)
    eye_b = mesh[list(EYE_B), :2].mean(axis=0)
    mouth_a, mouth_b = mesh[MOUTH_A, :2], mesh[MOUTH_B, :2]
    eyes = sorted([eye_a, eye_b], key=lambda p: float(p[0]))
    mouth = sorted([mouth_a, mouth_b], key=lambda p: float(p[0]))
    return np.stack([eyes[0], eyes[1], mesh[NOSE_TIP, :2], mouth[0], mouth[1]]).astype(np.float32)
