"""``mien emotions PATH``: basic-emotion probabilities and action-unit estimates of every person in a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.errors import MienError, NoFaceError
from tools.expression.analyze import analyze_emotions
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.timeline import plot_timeline
from tools.expression.types import EmotionAnalysis


def _transcript_markers(path: Path) -> tuple[list[tuple[float, str]], str | None]:
    """(segment start, text) of the file's speech, or no markers and why not."""
    from tools.media import probe_media
    from tools.speech import transcribe

    info = probe_media(path)
    if not info.has_audio:
        return [], "no audio track: the timeline has no transcript markers"
    try:
        transcript = transcribe(path, prosody=False)
    except MienError as error:
        return [], f"no transcript markers ({error})"
    return [(s.start_s, s.text) for s in transcript.segments], transcript.note


def _print_table(result: EmotionAnalysis) -> None:
    title = f"{len(result.timelines)} people in {Path(result.path).name} ({result.model}; AUs: {result.au_source})"
    table = Table(title=title)
    table.add_column("#", no_wrap=True)
    table.add_column("frames", no_wrap=True)
    table.add_column("emotion", no_wrap=True)
    table.add_column("next", no_wrap=True)
    table.add_column("AU estimates", overflow="fold")
    for timeline in result.timelines:
        mean = timeline.mean_probabilities()
        if mean is None:
            skipped = next((e.skipped_reason for e in timeline.estimates if e.skipped_reason), None)
            table.add_row(str(timeline.track_id), str(len(timeline.estimates)), "-", "-", skipped or "not scored")
            continue
        first, second = np.argsort(-mean)[:2]
        # AUs at intensity 2+ in at least a third of the frames, most frequent first.
        with_aus = [e.action_units for e in timeline.estimates if e.action_units is not None]
        counts: dict[str, int] = {}
        for units in with_aus:
            for au in units.active(2.0):
                counts[au] = counts.get(au, 0) + 1
        frequent = sorted((au for au, n in counts.items() if n * 3 >= len(with_aus)), key=lambda a: -counts[a])
        table.add_row(
            str(timeline.track_id),
            str(len(timeline.estimates)),
            f"{BASIC_EMOTIONS[first]} {mean[first]:.2f}",
            f"{BASIC_EMOTIONS[second]} {mean[second]:.2f}",
            (", ".join(frequent) or "none") if with_aus else "-",
        )
    console.print(table)


def emotions(
    path: Path = typer.Argument(..., help="Image or video file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts (every frame of every person)."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of emotion probabilities over time."),
    fps: float | None = typer.Option(None, "--fps", help="Frames per second sampled from videos."),
    model: str | None = typer.Option(None, "--model", help="Expression backend (see `mien models`)."),
    transcript: bool = typer.Option(
        False, "--transcript", help="Transcribe the speech and mark its segments on the --plot timeline."
    ),
) -> None:
    """Estimate the emotions and action units of every person in PATH."""
    with media_progress("emotions", enabled=not as_json) as progress:
        result = analyze_emotions(path, fps=fps, model=model, progress=progress)
    if not result.timelines:
        raise NoFaceError(f"{path}: no face found, so no emotions to estimate")
    note = None
    if plot is not None:
        markers: list[tuple[float, str]] = []
        if transcript and result.kind == "video":
            markers, note = _transcript_markers(path)
        written = plot_timeline(result, plot, transcript=markers)
    if as_json:
        payload = result.to_dict()
        if plot is not None:
            payload["plot"] = str(written)
        emit_json(payload)
        return
    _print_table(result)
    if plot is not None:
        console.print(f"timeline: {written}" + (f" ({note})" if note else ""))


def register(app: typer.Typer) -> None:
    app.command("emotions")(emotions)
