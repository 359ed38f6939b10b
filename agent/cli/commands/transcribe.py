"""``mien transcribe PATH``: what is said in an audio or video file, when, and how (prosody per segment)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.media import probe_media
from tools.speech import transcribe

PROGRESS_FROM_S = 20.0
"""Files at least this long show a progress bar (on stderr, and never with ``--json``)."""


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes):02d}:{rest:05.2f}"


def transcribe_command(
    path: Path = typer.Argument(..., help="Audio file, or video file with an audio track."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    backend: str | None = typer.Option(
        None, "--backend", help="whisper-tiny-en (default) | whisper-base | openai-whisper (see `mien models`)."
    ),
    language: str | None = typer.Option(None, "--language", help="Language code, e.g. en, fr (default: detect)."),
) -> None:
    """Transcribe PATH: segments with word times, voice activity, and pitch/energy/rate per segment."""
    info = probe_media(path)  # fails early, with the file's name, for missing, corrupt or image files
    with media_progress("transcribing", enabled=not as_json and info.duration_s >= PROGRESS_FROM_S) as progress:
        if progress is not None:
            progress(0.0, info.duration_s)  # Whisper reports per 30 s window: show the total from the start
        transcript = transcribe(
            path,
            backend=backend,
            language=language,
            on_progress=None if progress is None else (lambda done_s: progress(done_s, info.duration_s)),
        )
    if as_json:
        emit_json({"path": str(path), **transcript.to_dict()})
        return
    title = (
        f"{path}: {transcript.duration_s:.1f} s, language {transcript.language or '-'}, "
        f"{len(transcript.speech_regions)} speech regions, {transcript.model}"
    )
    if transcript.note:
        console.print(f"{title}\n{transcript.note}")
        return
    table = Table(title=title)
    for column in ("from", "to", "text", "pitch Hz", "energy dB", "words/s"):
        table.add_column(column, overflow="fold")
    for segment in transcript.segments:
        prosody = segment.prosody
        table.add_row(
            _clock(segment.start_s),
            _clock(segment.end_s),
            segment.text,
            f"{prosody.pitch_mean_hz:.0f}" if prosody and prosody.pitch_mean_hz is not None else "-",
            f"{prosody.energy_db:.0f}" if prosody else "-",
            f"{prosody.words_per_s:.1f}" if prosody and prosody.words_per_s is not None else "-",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe_command)
