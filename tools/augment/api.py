"""Pose augmentation of a photo: the plain Python API behind ``mien augment pose`` and the ``augment_pose`` tool.

The face is found by the face pipeline (BlazeFace + the 478-point mesh), checked to be turned little enough that
both halves were seen, and rendered at every requested yaw and pitch (``render.turn_face``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tools.augment.render import Turned, turn_face
from tools.augment.types import (
    MAX_PITCH_DEG,
    MAX_RESULT_YAW_DEG,
    MAX_YAW_DEG,
    SOURCE_YAW_REFUSE_DEG,
    SOURCE_YAW_WARN_DEG,
    PoseAugmentResult,
    PoseOptions,
    TurnedFaceRecord,
)
from tools.errors import ConfigError, FacePoseError, NoFaceError
from tools.faces.pipeline import FaceOptions, analyze_image
from tools.faces.pose import pose_from_mesh
from tools.faces.types import Face
from tools.media import load_image, save_image

_GEOMETRY = FaceOptions(mesh=True, pose=False, embeddings=False)


def check_angles(yaws: Sequence[float], pitches: Sequence[float]) -> None:
    """Refuse angles the renderer cannot show (``ConfigError`` naming the angle and the limit)."""
    if not yaws:
        raise ConfigError("give at least one yaw angle (degrees), e.g. --yaw 30,60")
    for yaw in yaws:
        if not np.isfinite(yaw) or abs(yaw) > MAX_YAW_DEG:
            raise ConfigError(f"yaw {yaw:g} is outside -{MAX_YAW_DEG:g}..{MAX_YAW_DEG:g} degrees")
    for pitch in pitches:
        if not np.isfinite(pitch) or abs(pitch) > MAX_PITCH_DEG:
            raise ConfigError(f"pitch {pitch:g} is outside -{MAX_PITCH_DEG:g}..{MAX_PITCH_DEG:g} degrees")


def parse_angles(text: str, what: str) -> tuple[float, ...]:
    """``"30,-15, 60"`` -> (30.0, -15.0, 60.0); a clear ``ConfigError`` for anything else."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise ConfigError(f"--{what} takes degrees separated by commas (e.g. 15,30), not {text!r}") from error


def choose_face(faces: Sequence[Face], number: int | None) -> tuple[int, Face]:
    """The face to turn: ``number`` (1-based, left to right), or the only one; a clear error otherwise."""
    if not faces:
        raise NoFaceError("no face found in the image, so there is nothing to turn")
    if number is None:
        if len(faces) > 1:
            raise ConfigError(
                f"the image has {len(faces)} faces; choose one with --face N (1..{len(faces)}, left to right)"
            )
        number = 1
    if not 1 <= number <= len(faces):
        raise ConfigError(f"--face {number} does not exist: the image has {len(faces)} face(s)")
    face = faces[number - 1]
    if face.mesh is None:
        raise NoFaceError(f"face {number} was detected but the face mesh could not be fitted to it (too small or cut)")
    return number, face


def check_source_pose(mesh: np.ndarray) -> tuple[dict[str, float], list[str]]:
    """The photo's own head pose, and warnings; ``FacePoseError`` for a profile (its hidden half has no texture)."""
    pose = pose_from_mesh(mesh)
    yaw = pose.yaw_deg
    if abs(yaw) > SOURCE_YAW_REFUSE_DEG:
        raise FacePoseError(
            f"the face is already turned {abs(yaw):.0f} degrees to the {'left' if yaw > 0 else 'right'} (a profile): "
            f"its far half is hidden, so it cannot be textured; give a photo turned under {SOURCE_YAW_REFUSE_DEG:g} "
            "degrees"
        )
    warnings = []
    if abs(yaw) > SOURCE_YAW_WARN_DEG:
        warnings.append(
            f"the face is already turned {abs(yaw):.0f} degrees: its far cheek was seen at a grazing angle, so turns "
            "that bring it into view are mostly mirrored from the other side or inpainted"
        )
    return pose.to_dict(), warnings


def output_name(stem: str, face: int, yaw: float, pitch: float) -> str:
    return f"{stem}_face{face}_yaw{yaw:+g}_pitch{pitch:+g}.png"


def augment_pose_image(
    image_rgb: np.ndarray, options: PoseOptions
) -> tuple[int, int, dict[str, float], list[str], list[Turned]]:
    """Turn the chosen face of ``image_rgb`` to every angle of ``options``: (face number, faces in the image,
    source pose, warnings, rendered images in yaw-major order)."""
    check_angles(options.yaws, options.pitches or (0.0,))
    faces = analyze_image(image_rgb, _GEOMETRY)
    number, face = choose_face(faces, options.face)
    assert face.mesh is not None
    pose, warnings = check_source_pose(face.mesh)
    for yaw in options.yaws:
        if abs(pose["yaw_deg"] + yaw) > MAX_RESULT_YAW_DEG:
            raise ConfigError(
                f"face {number} is already turned {pose['yaw_deg']:+.0f} degrees, so a {yaw:+g} degree turn would "
                f"leave it at {pose['yaw_deg'] + yaw:+.0f}, past a profile; choose turns that stay within "
                f"±{MAX_RESULT_YAW_DEG:g}"
            )
    turned = [
        turn_face(image_rgb, face.mesh, yaw, pitch) for yaw in options.yaws for pitch in (options.pitches or (0.0,))
    ]
    return number, len(faces), pose, warnings, turned


def augment_pose_file(path: str | Path, out_dir: str | Path, options: PoseOptions) -> PoseAugmentResult:
    """Render the chosen face of the photo ``path`` at every angle of ``options`` into ``out_dir`` (PNG, atomic)."""
    check_angles(options.yaws, options.pitches or (0.0,))
    source = Path(path)
    image = load_image(source)
    number, count, pose, warnings, turned = augment_pose_image(image, options)
    result = PoseAugmentResult(str(source), number, count, pose, warnings=warnings)
    folder = Path(out_dir)
    for item in turned:
        target = save_image(folder / output_name(source.stem, number, item.yaw_deg, item.pitch_deg), item.image)
        result.turned.append(
            TurnedFaceRecord(
                yaw_deg=item.yaw_deg,
                pitch_deg=item.pitch_deg,
                output=str(target),
                box=item.box.to_list(),
                mirrored_share=item.mirrored_share,
                inpainted_share=item.inpainted_share,
                surround_inpainted_share=item.surround_inpainted_share,
                seconds=item.seconds,
            )
        )
    return result
