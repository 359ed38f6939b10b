"""The records of a pose augmentation: what was asked, and per face and angle what was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Turns beyond these are refused: past 75 degrees the mesh's own far side is all that is left to show.
MAX_YAW_DEG = 75.0
MAX_PITCH_DEG = 40.0
# The photo's own head pose: past WARN the far cheek was seen at a grazing angle (much of it is mirrored or
# inpainted), past REFUSE the hidden half cannot be textured from the photo at all.
SOURCE_YAW_WARN_DEG = 25.0
SOURCE_YAW_REFUSE_DEG = 45.0
# The photo's yaw plus the turn: past a full profile the face itself is no longer in view.
MAX_RESULT_YAW_DEG = 90.0


@dataclass(frozen=True)
class PoseOptions:
    """Angles to render (each yaw with each pitch), which face (1-based, left to right; None = the only one)."""

    yaws: tuple[float, ...] = (30.0,)
    pitches: tuple[float, ...] = (0.0,)
    face: int | None = None


@dataclass(frozen=True)
class TurnedFaceRecord:
    """One rendered angle of one face: the file, the predicted box, and how much was not textured from the photo
    (shares of the visible face's area: mirrored from the other side, inpainted; surroundings inpainted)."""

    yaw_deg: float
    pitch_deg: float
    output: str
    box: list[float]
    mirrored_share: float
    inpainted_share: float
    surround_inpainted_share: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "yaw_deg": self.yaw_deg,
            "pitch_deg": self.pitch_deg,
            "output": self.output,
            "box": self.box,
            "mirrored_share": round(self.mirrored_share, 4),
            "inpainted_share": round(self.inpainted_share, 4),
            "surround_inpainted_share": round(self.surround_inpainted_share, 4),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class PoseAugmentResult:
    """Everything one ``augment_pose_file`` call did."""

    source: str
    face: int
    faces_in_image: int
    source_pose: dict[str, float]
    turned: list[TurnedFaceRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    method: str = (
        "textured 3D rotation of the 478-point MediaPipe mesh, z-buffered; hidden skin mirrored from the symmetric "
        "side or inpainted; head surroundings warped along (a plausible augmentation, not a measured view)"
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "face": self.face,
            "faces_in_image": self.faces_in_image,
            "source_pose": self.source_pose,
            "turned": [t.to_dict() for t in self.turned],
            "warnings": self.warnings,
            "method": self.method,
        }
