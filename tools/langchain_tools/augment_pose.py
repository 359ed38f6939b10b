"""Pose augmentation as a tool ("show me this face turned 45 degrees"): writes the turned renders and says what
they are — a rendering from the face mesh, with how much of each was mirrored or inpainted — not new evidence."""

from __future__ import annotations

from pathlib import Path

from langchain_core.tools import BaseTool
from pydantic import Field

from tools.augment import PoseOptions, augment_pose_file
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.types import Finding
from tools.settings import Settings, get_settings


class AugmentPoseArgs(MediaArgs):
    yaws: list[float] = Field(
        default_factory=lambda: [30.0], description="Yaw angles in degrees (+ = the subject's left), -75..75."
    )
    pitches: list[float] = Field(
        default_factory=lambda: [0.0], description="Pitch angles in degrees (+ = up), -40..40."
    )
    face: int | None = Field(default=None, description="Which face (1-based, left to right) when there are several.")
    output_dir: str | None = Field(default=None, description="Folder to write the turned images into.")


def default_output_dir(media: str, settings: Settings) -> Path:
    return settings.home / "augmented" / Path(media).stem


def augment_pose(
    media: str,
    yaws: list[float] | None = None,
    pitches: list[float] | None = None,
    face: int | None = None,
    output_dir: str | None = None,
) -> Finding:
    """Render the face of the photo ``media`` at the given angles and report the files written."""
    folder = Path(output_dir) if output_dir else default_output_dir(media, get_settings())
    options = PoseOptions(yaws=tuple(yaws or (30.0,)), pitches=tuple(pitches or (0.0,)), face=face)
    result = augment_pose_file(media, folder, options)
    angles = ", ".join(f"yaw {t.yaw_deg:+g}°/pitch {t.pitch_deg:+g}°" for t in result.turned)
    summary = (
        f"rendered face {result.face} of {result.faces_in_image} at {angles} into {folder} (renders from the face "
        "mesh: the photo's texture rotated in 3D, unseen skin mirrored from the other side or inpainted — an "
        "augmentation, not a photograph of the person from that side)"
    )
    if result.warnings:
        summary += "; " + "; ".join(result.warnings)
    facts = {
        **result.to_dict(),
        "evidence": "rendering (augmentation), not an observation",
    }
    label = f"{len(result.turned)} turned render(s)"
    return Finding("augment_pose", media, label, summary, facts, files=[t.output for t in result.turned])


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="augment_pose",
        description="Render a face from a photo turned to other head angles (yaw, pitch) by rotating its textured "
        "3D face mesh, for recognizer training data or to check recognition under pose; writes PNG files.",
        run=augment_pose,
        args_schema=AugmentPoseArgs,
        versions={"augment_pose": "mesh-render-1"},
        examples=[
            "Show me this face turned 45 degrees to the side.",
            "Make profile views of this person for training a recognizer.",
            "Rotate the head in this photo to a three-quarter view.",
            "Augment this photo with other head poses.",
            "What would this face look like turned 30 degrees?",
        ],
        kinds=("image",),
        write_args=("output_dir",),
    )
