"""``mien body PATH``: each person's body language (posture, touches, gestures, fidgeting, nods) with its times."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.body import read_body_language
from tools.errors import NoFaceError
from tools.faces.pipeline import FaceOptions, analyze_file


def body(
    path: Path = typer.Argument(..., help="Image or video file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts (every cue with its frames)."),
    fps: float | None = typer.Option(None, "--fps", help="Frames per second sampled from videos."),
) -> None:
    """Read the body language of every person in PATH (pose and hand landmarks; geometric heuristics)."""
    with media_progress("body", enabled=not as_json) as progress:
        faces = analyze_file(path, FaceOptions(embeddings=True), fps=fps, progress=progress)
    if not faces.tracks:
        raise NoFaceError(f"{path}: no face found, so no body to tie to a person")
    result = read_body_language(faces)
    if as_json:
        emit_json(result.to_dict())
        return
    table = Table(title=f"body language in {path} ({result.source})")
    for column in ("#", "cue", "from s", "to s", "frames", "measured"):
        table.add_column(column)
    for person in result.people:
        if not person.cues:
            table.add_row(str(person.track_id), "none observed", "", "", "", person.note or "")
        for cue in person.cues:
            frames = f"{cue.frames[0]}-{cue.frames[-1]}" if len(cue.frames) > 1 else str(cue.frames[0])
            table.add_row(str(person.track_id), cue.words, f"{cue.start_s:.1f}", f"{cue.end_s:.1f}", frames, cue.detail)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("body")(body)
