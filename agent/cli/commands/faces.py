"""``mien faces PATH``: find, track and (when a gallery is enrolled) name the faces in an image or video."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.errors import NoFaceError
from tools.faces.annotate_file import annotate_file
from tools.faces.pipeline import FaceOptions, analyze_file
from tools.recognition import PlainGallery
from tools.recognition.service import name_tracks
from tools.settings import get_settings


def faces(
    path: Path = typer.Argument(..., help="Image or video file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    annotate: Path | None = typer.Option(
        None, "--annotate", help="Write an annotated image (.png/.jpg) or video (.mp4)."
    ),
    fps: float | None = typer.Option(None, "--fps", help="Frames per second sampled from videos."),
    gallery: Path | None = typer.Option(None, "--gallery", help="Gallery to name people from (default: MIEN_HOME's)."),
    points: bool = typer.Option(False, "--points", help="Include landmarks, mesh and embeddings in --json."),
) -> None:
    """Find, track and name the faces in PATH."""
    settings = get_settings()
    with media_progress("faces", enabled=not as_json) as progress:
        result = analyze_file(path, FaceOptions(), fps=fps, progress=progress)
    if not result.tracks:
        raise NoFaceError(f"{path}: no face found ({result.frames_analysed} frames analysed)")
    gallery_path = gallery or settings.resolved_gallery_path
    if gallery_path.exists():
        name_tracks(PlainGallery(gallery_path), result)
    if annotate is not None:
        annotate_file(result, annotate)
    if as_json:
        payload = result.to_dict(with_faces=True)
        if points:
            payload["faces"] = [f.to_dict(with_points=True) for f in result.faces]
        emit_json(payload)
        return
    table = Table(title=f"{len(result.tracks)} people in {path} ({result.frames_analysed} frames analysed)")
    for column in ("#", "name", "from s", "to s", "frames", "box (first)", "yaw/pitch/roll"):
        table.add_column(column)
    for track in result.tracks:
        face = track.faces[0]
        pose = face.pose
        table.add_row(
            str(track.track_id),
            track.identity or "unknown",
            f"{track.start_s:.2f}",
            f"{track.end_s:.2f}",
            str(len(track.faces)),
            " ".join(f"{v:.0f}" for v in face.box.to_list()),
            f"{pose.yaw_deg:+.0f}/{pose.pitch_deg:+.0f}/{pose.roll_deg:+.0f}" if pose else "-",
        )
    console.print(table)
    if annotate is not None:
        console.print(f"annotated: {annotate}")


def register(app: typer.Typer) -> None:
    app.command("faces")(faces)
