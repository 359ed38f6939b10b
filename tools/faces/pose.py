"""Head pose (yaw, pitch, roll in degrees) from landmarks.

With a 478-point mesh, the mesh's own depth estimate gives the face's axes directly (eye line and chin-forehead
line in 3D): the mesh model has already fitted a 3D face, so no generic model is needed. With 68 landmarks only,
OpenCV's solvePnP fits a generic 3D face to six points. The 3D points are a generic adult head in
millimetre-like units (nose tip at the origin, x to the subject's left, y up, z towards the camera). The camera
is a pinhole with focal length equal to the image width: wrong for any real lens, but the angles of a face that
is small in the frame depend little on it.
"""

from __future__ import annotations

import cv2
import numpy as np

from tools.faces.types import Face, HeadPose

# nose tip, chin, subject's right eye outer corner, left eye outer corner, right mouth corner, left mouth corner
GENERIC_FACE_3D = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.0, -63.6, -12.5],
        [-43.3, 32.7, -26.0],
        [43.3, 32.7, -26.0],
        [-28.9, -28.9, -24.1],
        [28.9, -28.9, -24.1],
    ],
    dtype=np.float64,
)
MESH_POSE_POINTS = (1, 152, 33, 263, 61, 291)
DLIB68_POSE_POINTS = (30, 8, 36, 45, 48, 54)


def pose_points(face: Face) -> np.ndarray | None:
    """The six 2D points (6, 2) matching ``GENERIC_FACE_3D``, from the mesh or from 68 landmarks."""
    if face.mesh is not None:
        return np.asarray(face.mesh[list(MESH_POSE_POINTS), :2], dtype=np.float64)
    if face.landmarks68 is not None:
        return np.asarray(face.landmarks68[list(DLIB68_POSE_POINTS)], dtype=np.float64)
    return None


MESH_RIGHT_EYE_OUTER, MESH_LEFT_EYE_OUTER, MESH_CHIN, MESH_FOREHEAD = 33, 263, 152, 10
# On a level head the forehead stands this much closer to the camera than the chin (the line leans forward):
# measured 11.1 degrees on the astronaut and 11.8 on her mirror image, both looking straight at the camera.
MESH_FOREHEAD_LEAN_DEG = 11.0


def estimate_pose(face: Face, image_width: int, image_height: int) -> HeadPose | None:
    """Yaw (+ = the subject turns to their left), pitch (+ = looks up), roll (+ = head tilts clockwise in the image)."""
    if face.mesh is not None:
        return pose_from_mesh(face.mesh)
    return pose_from_points(face, image_width, image_height)


def pose_from_mesh(mesh: np.ndarray) -> HeadPose:
    """Head pose from the mesh's 3D points (478, 3): x right, y down, z away from the camera (pixels)."""
    points = np.asarray(mesh, dtype=np.float64)
    x_axis = points[MESH_LEFT_EYE_OUTER] - points[MESH_RIGHT_EYE_OUTER]  # subject's right eye to left eye
    up = points[MESH_FOREHEAD] - points[MESH_CHIN]
    x_axis /= np.linalg.norm(x_axis)
    z_axis = np.cross(x_axis, up)
    z_axis /= np.linalg.norm(z_axis)
    y_axis = np.cross(z_axis, x_axis)  # chin-to-forehead, made orthogonal to the eye line
    # A face looking at the camera has its right eye on the image left: x_axis ~ (1, 0, 0), y_axis ~ (0, -1, 0).
    # Turning to its left pushes the left eye away (z grows): yaw > 0. Raising the chin tilts y_axis away: pitch > 0.
    yaw = np.degrees(np.arctan2(x_axis[2], x_axis[0]))
    roll = np.degrees(np.arctan2(x_axis[1], x_axis[0]))
    pitch = np.degrees(np.arctan2(y_axis[2], -y_axis[1])) + MESH_FOREHEAD_LEAN_DEG
    return HeadPose(yaw_deg=float(yaw), pitch_deg=float(pitch), roll_deg=float(roll))


def pose_from_points(face: Face, image_width: int, image_height: int) -> HeadPose | None:
    """Head pose by solvePnP of six landmarks on the generic 3D face."""
    points = pose_points(face)
    if points is None:
        return None
    focal = float(image_width)
    camera = np.array([[focal, 0, image_width / 2.0], [0, focal, image_height / 2.0], [0, 0, 1]], dtype=np.float64)
    # Image y points down and the model's y up: flip the model so that both are right-handed the same way.
    model = GENERIC_FACE_3D * np.array([1.0, -1.0, -1.0])
    ok, rvec, _ = cv2.solvePnP(model, points, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    yaw, pitch, roll = _euler_deg(rotation)
    return HeadPose(yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll)


def _euler_deg(rotation: np.ndarray) -> tuple[float, float, float]:
    """Yaw about the vertical axis, pitch about the horizontal, roll about the optical axis (camera frame)."""
    sy = float(np.hypot(rotation[0, 0], rotation[1, 0]))
    if sy > 1e-6:
        pitch = np.arctan2(rotation[2, 1], rotation[2, 2])
        yaw = np.arctan2(-rotation[2, 0], sy)
        roll = np.arctan2(rotation[1, 0], rotation[0, 0])
    else:
        pitch = np.arctan2(-rotation[1, 2], rotation[1, 1])
        yaw = np.arctan2(-rotation[2, 0], sy)
        roll = 0.0
    pitch_deg = float(np.degrees(pitch))
    # Fold pitch near +-180 (model facing the camera) to around 0.
    pitch_deg = pitch_deg - 180.0 if pitch_deg > 90 else pitch_deg + 180.0 if pitch_deg < -90 else pitch_deg
    return float(-np.degrees(yaw)), float(-pitch_deg), float(np.degrees(roll))
