"""``mien deidentify IN OUT``: write a copy of an image or video with every face hidden and the voice anonymized."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.cli.output import console, emit_json, err_console
from tools.deidentify import ANONYMIZE_MODES, DeidentifyReport, deidentify_image, deidentify_video
from tools.errors import ConfigError, MediaError
from tools.media import probe_media


def deidentify(
    in_path: Path = typer.Argument(..., metavar="IN", help="Image or video to de-identify."),
    out_path: Path = typer.Argument(..., metavar="OUT", help="Output: .mp4 for video, .png/.jpg for images."),
    mode: str = typer.Option("blur", "--mode", help=f"How faces are hidden: {' | '.join(ANONYMIZE_MODES)}."),
    no_voice: bool = typer.Option(False, "--no-voice", help="Keep the original voice instead of anonymizing it."),
    fps: float | None = typer.Option(None, "--fps", help="Output frame rate (default: the source's, every frame)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON for scripts."),
) -> None:
    """Hide every face in IN (tracked on every frame) and anonymize its voice; write the result to OUT."""
    if mode not in ANONYMIZE_MODES:
        raise ConfigError(f"unknown --mode {mode!r}; choose one of {', '.join(ANONYMIZE_MODES)}")
    info = probe_media(in_path)
    if info.kind == "audio":
        raise MediaError(f"{info.path}: is an audio-only file; mien deidentify takes an image or a video")
    if info.kind == "image":
        report = deidentify_image(in_path, out_path, mode=mode)
    else:
        with _frame_progress(enabled=not as_json) as progress:
            report = deidentify_video(in_path, out_path, mode=mode, voice=not no_voice, fps=fps, progress=progress)
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(_summary(report))


def _summary(report: DeidentifyReport) -> str:
    audio = {"anonymized": "voice anonymized", "original": "original audio kept", "none": "no audio"}[report.audio]
    lines = [f"wrote {report.output_path}"]
    if report.kind == "video":
        lines.append(
            f"{report.frames_written} frames ({report.duration_s:.2f} s at {report.fps:g} fps), "
            f"{report.frames_with_faces} with faces, {report.tracks} tracks, {audio}"
        )
    lines.append(
        f"{report.faces_hidden} regions hidden ({report.mode}): {report.faces_detected} detected, "
        f"{report.boxes_interpolated} interpolated, {report.boxes_held} held, {report.residual_faces} found on "
        f"re-check; {report.elapsed_s:.1f} s"
    )
    if report.frames_flagged:
        lines.append(f"[yellow]warning: {report.frames_flagged} frames still show something face-like[/yellow]")
    return "\n".join(lines)


@contextmanager
def _frame_progress(enabled: bool) -> Iterator[Callable[[int, int | None], None] | bool]:
    """A rich bar on stderr fed with (frames done, frames expected); False when disabled or not a terminal."""
    if not enabled or not err_console.is_terminal:
        yield False
        return
    columns = (TextColumn("de-identifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("de-identifying", total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=None if total is None else max(total, done))

        yield update


def register(app: typer.Typer) -> None:
    app.command("deidentify")(deidentify)
