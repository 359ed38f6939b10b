"""De-identification as a tool: a copy of the image or video with every face hidden and the voice anonymized.

The copy is written under ``<home>/deidentified`` (named after the input and the mode) unless the call names an
output path; the finding cites the file so the user gets the clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from langchain_core.tools import BaseTool
from pydantic import Field

from tools.deidentify import DeidentifyReport, deidentify_image, deidentify_video
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import package_version
from tools.langchain_tools.types import Finding
from tools.media import probe_media
from tools.settings import Settings, get_settings


class DeidentifyArgs(MediaArgs):
    mode: Literal["blur", "mask", "pixelate"] = Field(default="blur", description="How faces are hidden.")
    output: str | None = Field(default=None, description="Where to write the copy (.mp4 for video, .png/.jpg image).")


def default_output(media: str, kind: str, mode: str, settings: Settings) -> Path:
    source = Path(media)
    image_suffix = source.suffix.lower() if source.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else ".png"
    suffix = ".mp4" if kind == "video" else image_suffix
    return settings.home / "deidentified" / f"{source.stem}.{mode}{suffix}"


def deidentify_media(media: str, mode: str = "blur", output: str | None = None) -> Finding:
    """Write a de-identified copy of ``media``: faces hidden on every frame, voice anonymized (McAdams)."""
    settings = get_settings()
    info = probe_media(media, settings)
    target = Path(output) if output else default_output(media, info.kind, mode, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    report: DeidentifyReport
    if info.kind == "image":
        report = deidentify_image(media, target, mode=mode, settings=settings)
    else:
        report = deidentify_video(media, target, mode=mode, progress=False, settings=settings)
    summary = (
        f"wrote {report.output_path}: {report.faces_hidden} face region(s) hidden ({mode}) over "
        f"{report.frames_written} frame(s); audio {report.audio}"
    )
    facts = {
        "output": report.output_path,
        "mode": report.mode,
        "frames": report.frames_written,
        "faces_hidden": report.faces_hidden,
        "audio": report.audio,
    }
    return Finding("deidentify_media", media, report.output_path, summary, facts, files=[report.output_path])


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="deidentify_media",
        description="Make a de-identified copy of an image or video: blur or mask every face on every frame and "
        "anonymize the voice, and return the path of the new file.",
        run=deidentify_media,
        args_schema=DeidentifyArgs,
        versions={
            "detector": settings.detector,
            "detection_threshold": f"{settings.deidentify_detection_threshold:g}",
            "margin": f"{settings.deidentify_margin:g}",
            "mcadams_alpha": f"{settings.voice_mcadams_alpha:g}",
            "mediapipe": package_version("mediapipe"),
        },
        examples=[
            "Blur everyone and give me the clip.",
            "Anonymize this video.",
            "Hide all the faces.",
            "Make a version where nobody can be recognised.",
            "Mask the faces and disguise the voices.",
            "De-identify the picture.",
        ],
        write_args=("output",),
    )
