"""Cloaking as a tool ("protect this photo from face recognition"): writes the protected copy and cites the
recognizer's distances before and after, so the answer says how well it worked, not just that it ran."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from langchain_core.tools import BaseTool
from pydantic import Field

from tools.cloak import CloakOptions, cloak_file
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.types import Finding
from tools.settings import Settings, get_settings


class CloakArgs(MediaArgs):
    strength: Literal["low", "mid", "high"] = Field(default="mid", description="More protection means more change.")
    target: str | None = Field(default=None, description="Path of a photo of someone the face should match instead.")
    face: int | None = Field(default=None, description="Only this face (1-based, left to right); default all.")
    output: str | None = Field(default=None, description="Where to write the protected photo (.png or .jpg).")


def default_output(media: str, settings: Settings) -> Path:
    source = Path(media)
    suffix = source.suffix.lower() if source.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else ".png"
    return settings.home / "cloaked" / f"{source.stem}.cloaked{suffix}"


def cloak_faces(
    media: str, strength: str = "mid", target: str | None = None, face: int | None = None, output: str | None = None
) -> Finding:
    """Write a cloaked copy of the photo ``media`` and report, per face, the recognizer distances."""
    settings = get_settings()
    destination = Path(output) if output else default_output(media, settings)
    options = CloakOptions(strength=strength, target=target, face=face)  # type: ignore[arg-type]
    result = cloak_file(media, destination, options)
    faces = []
    protected = 0
    for record in result.faces:
        name = result.surrogates[0]
        ok = record.source_distance[name] >= record.thresholds[name]
        protected += ok
        faces.append(
            {
                "face": record.number,
                "recognizer": name,
                "distance_to_original": record.source_distance[name],
                "distance_after_jpeg75_half_size": record.source_distance_degraded[name],
                "same_person_below": record.thresholds[name],
                "matches_original": not ok,
                **({"distance_to_target": record.target_distance[name]} if record.target_distance else {}),
            }
        )
    summary = (
        f"wrote {result.output}: {protected} of {len(result.faces)} face(s) no longer match their original for "
        f"{result.surrogates[0]} (white-box, measured on the recognizer the cloak was optimised against); "
        f"image SSIM {result.ssim:.3f}"
    )
    facts = {
        "output": result.output,
        "goal": result.goal,
        "strength": result.strength,
        "faces": faces,
        "ssim": result.ssim,
        "psnr_db": result.psnr_db,
        "skipped": result.skipped,
        "note": "distances are the surrogate's own (white-box); other recognizers were not measured",
    }
    label = f"{protected}/{len(result.faces)} faces protected"
    return Finding("cloak_faces", media, label, summary, facts, files=[str(result.output)])


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="cloak_faces",
        description="Protect a photo from face recognition: write a natural-looking copy whose faces no longer match "
        "the person (or match a target photo), robust to JPEG and resizing, and report the match distances.",
        run=cloak_faces,
        args_schema=CloakArgs,
        versions={"cloak": "pixel-1", "arcface": str(settings.arcface_path or "")},
        examples=[
            "Protect this photo from face recognition.",
            "Cloak my face so facial recognition can't match me.",
            "Make this picture unrecognisable to face ID systems but keep it looking the same.",
            "Make this photo match the other person.",
            "Anti-facial-recognition version of this image, please.",
        ],
        kinds=("image",),
        write_args=("output",),
    )
