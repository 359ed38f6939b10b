"""``mien liveness PATH``: is each person in an image or video live, or a printed photo, a replay, a mask, a swap?"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from tools.errors import NoFaceError


def liveness(
    path: Path = typer.Argument(..., help="Image or video file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """A liveness verdict per person (track): attack model, rPPG pulse, blinks and non-rigid motion."""
    from tools.attack.liveness import assess_liveness

    report = assess_liveness(path)
    if not report.tracks:
        raise NoFaceError(f"{path}: no face found; liveness needs a visible face ({report.frames_read} frames read)")
    if as_json:
        emit_json(report.to_dict())
        return
    table = Table(title=f"liveness of {len(report.tracks)} face(s) in {path}: {report.verdict}")
    for column in ("#", "verdict", "P(attack)", "pulse", "blinks", "why"):
        table.add_column(column)
    for track in report.tracks:
        pulse = "-" if track.pulse is None else (f"{track.pulse.bpm:.0f} bpm" if track.pulse.bpm else "none")
        table.add_row(
            str(track.track_id),
            track.verdict,
            "-" if track.model is None else f"{track.model.fake_probability:.2f}",
            pulse,
            "-" if track.motion is None else str(track.motion.blinks),
            "; ".join(track.reasons),
        )
    console.print(table)
    for note in report.notes:
        console.print(note)


def register(app: typer.Typer) -> None:
    app.command("liveness")(liveness)
