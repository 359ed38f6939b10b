"""Defrontalization: real faces rendered at other yaw and pitch angles from their 478-point mesh, to augment
recognizer training and to measure how recognition holds up when people turn their heads."""

from tools.augment.api import augment_pose_file, augment_pose_image, parse_angles
from tools.augment.render import Turned, turn_face
from tools.augment.types import PoseAugmentResult, PoseOptions, TurnedFaceRecord

__all__ = [
    "PoseAugmentResult",
    "PoseOptions",
    "Turned",
    "TurnedFaceRecord",
    "augment_pose_file",
    "augment_pose_image",
    "parse_angles",
    "turn_face",
]
