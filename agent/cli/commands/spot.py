"""``mien spot VIDEO``: when each person shows a macro- or micro-expression (onset, apex, offset), and what it is.

``mien spot train DATA --out MODEL.pt`` and ``mien spot evaluate DATA [--model MODEL.pt]`` train and score the
FEDN-style SpottingNet (or score the training-free spotter) on a CAS(ME)^2/^3-style folder (see
``tools/spotting/fedn/data.py``). A video literally named ``train`` or ``evaluate`` is spotted as ``./train``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.errors import ConfigError, NoFaceError
from tools.spotting import SpotOptions, SpottingResult, spot_video

MODES = ("train", "evaluate")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


def _print_result(result: SpottingResult) -> None:
    title = (f"{len(result.of_kind('micro'))} micro- and {len(result.of_kind('macro'))} macro-expressions in "
             f"{Path(result.path).name} ({result.frames} frames at {result.fps:g} fps)")
    with_body = any(i.arousal is not None for i in result.intervals)
    caption = f"{result.method}; labels from AU estimates at the apex"
    caption += "; arousal: a heuristic over the signals, fused = face score weighted by it" if with_body else ""
    table = Table(title=title, caption=caption)
    columns = ["#", "kind", "onset-offset (apex)", "label", "AUs moved (estimates)"]
    for column in columns + (["arousal", "score face/fused"] if with_body else []):
        table.add_column(column, overflow="fold")
    for i in result.intervals:
        row = [
            str(i.track_id), i.kind, f"{_clock(i.onset_s)}-{_clock(i.offset_s)} ({_clock(i.apex_s)})",
            i.label or "-", ", ".join(i.action_units[:3]) or ", ".join(i.regions),
        ]
        if with_body:
            arousal = "-" if i.arousal is None else f"{i.arousal:.2f}"
            fused = "-" if i.fused_score is None else f"{i.fused_score:.2f}"
            row += [arousal, f"{i.score:.2f}/{fused}"]
        table.add_row(*row)
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")


def _spot(path: Path, as_json: bool, plot: Path | None, signals: Path | None, fps: float | None) -> None:
    from tools.media import probe_media
    from tools.spotting.physio import Signals, attach_physiology, read_signals

    body: Signals | None = None
    if signals is not None:  # a file that misses the video fails before the video is spotted
        body = read_signals(signals)
        body.check_overlap(0.0, probe_media(path).duration_s)
    with media_progress("spotting", enabled=not as_json) as progress:
        result = spot_video(path, SpotOptions(fps=fps), progress=progress)
    if not result.tracks:
        raise NoFaceError(f"{path}: no face found in {result.frames} frames, so no expression to spot")
    if body is not None:
        result = attach_physiology(result, body)
    written = None
    if plot is not None:
        from tools.expression.analyze import analyze_emotions
        from tools.spotting.plot import plot_spotting

        written = plot_spotting(result, analyze_emotions(path, embeddings=False), plot)
    if as_json:
        payload = result.to_dict()
        if written is not None:
            payload["plot"] = str(written)
        emit_json(payload)
        return
    _print_result(result)
    if written is not None:
        console.print(f"timeline: {written}")


def spot(
    target: str = typer.Argument(..., help="Video file; or 'train' / 'evaluate' followed by a data folder."),
    data: Path | None = typer.Argument(None, help="With train/evaluate: the CAS(ME)-style data folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the emotion timeline PNG with intervals shaded."),
    signals: Path | None = typer.Option(
        None, "--signals", help="Physiological signals synchronized to the video (CSV or EDF): features per interval."
    ),
    fps: float | None = typer.Option(None, "--fps", help="Frames per second analysed (default: every frame)."),
    model: Path | None = typer.Option(None, "--model", help="evaluate: a trained SpottingNet (.pt); default none."),
    out: Path | None = typer.Option(None, "--out", help="train: where to write the model (.pt)."),
    epochs: int = typer.Option(30, "--epochs", help="train: passes over the training videos."),
) -> None:
    """Spot macro- and micro-expressions (onset, apex, offset, label) of every person in a video."""
    if target not in MODES:
        if data is not None:
            raise ConfigError(f"unexpected argument {data}: give one video (or 'train'/'evaluate' DATA)")
        _spot(Path(target), as_json, plot, signals, fps)
        return
    if data is None:
        raise ConfigError(f"mien spot {target} needs a data folder (videos/ and labels.csv; see `mien spot --help`)")
    from evals.spotting.folder import evaluate_folder
    from tools.spotting.fedn.folder import train_folder

    if target == "train":
        if out is None:
            raise ConfigError("mien spot train needs --out MODEL.pt")
        report = train_folder(data, out, epochs=epochs)
    else:
        report = evaluate_folder(data, model)
    if as_json:
        emit_json(report)
        return
    for key, value in report.items():
        console.print(f"{key}: {value}")


def register(app: typer.Typer) -> None:
    app.command("spot")(spot)
