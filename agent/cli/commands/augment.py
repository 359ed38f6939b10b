"""``mien augment pose IMAGE --yaw 30,60 [--pitch 0,15] [--face N] --out DIR``: a real face rendered turned.

The renders are augmentations for recognizer training and pose-robustness checks: the face's own texture rotated
on its 478-point mesh, with what the photo never saw mirrored from the other side or inpainted.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.output import console, emit_json
from tools.augment import PoseAugmentResult, PoseOptions, augment_pose_file, parse_angles
from tools.errors import MediaError
from tools.media import probe_media

augment_app = typer.Typer(help="Augment face photos (pose: render a face at other head angles).", no_args_is_help=True)


@augment_app.command("pose")
def pose(
    image: Path = typer.Argument(..., metavar="IMAGE", help="A photo with the face to turn."),
    yaw: str = typer.Option("30", "--yaw", help="Yaw angles in degrees, comma-separated (+ = the subject's left)."),
    pitch: str = typer.Option("0", "--pitch", help="Pitch angles in degrees, comma-separated (+ = up)."),
    face: int | None = typer.Option(None, "--face", help="Which face (1-based, left to right) when there are several."),
    out: Path = typer.Option(..., "--out", help="Folder to write the turned images into (PNG)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON for scripts."),
) -> None:
    """Render the face in IMAGE at every --yaw with every --pitch; write one PNG per angle into --out."""
    options = PoseOptions(yaws=parse_angles(yaw, "yaw"), pitches=parse_angles(pitch, "pitch") or (0.0,), face=face)
    if probe_media(image).kind != "image":
        raise MediaError(f"{image}: mien augment pose takes a photo (an image file)")
    result = augment_pose_file(image, out, options)
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(summary(result))


def summary(result: PoseAugmentResult) -> str:
    """What was written, per angle, with how much of the face is not the photo's own texture."""
    pose = result.source_pose
    lines = [
        f"face {result.face} of {result.faces_in_image} (photo's own yaw {pose['yaw_deg']:+.0f}°, pitch "
        f"{pose['pitch_deg']:+.0f}°), turned by:"
    ]
    for item in result.turned:
        lines.append(
            f"  yaw {item.yaw_deg:+g}° pitch {item.pitch_deg:+g}° → {item.output} "
            f"(mirrored {100 * item.mirrored_share:.0f}%, inpainted {100 * item.inpainted_share:.0f}% of the face; "
            f"{item.seconds:.2f} s)"
        )
    lines += [f"[yellow]warning: {text}[/yellow]" for text in result.warnings]
    lines.append("an augmentation rendered from the face mesh, not a photograph of the other side")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.add_typer(augment_app, name="augment")
