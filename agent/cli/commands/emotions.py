"""``mien emotions PATH``: basic-emotion probabilities and action-unit estimates of every person in a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.errors import ConfigError, MienError, NoFaceError
from tools.expression.analyze import analyze_emotions
from tools.expression.compound_media import TrackCompound, compound_expressions
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import ModalityProbabilities
from tools.expression.timeline import plot_timeline
from tools.expression.types import EmotionAnalysis
from tools.speech.speaker import SpeakerAttribution, attribute_speakers
from tools.speech.types import Transcript


def _speech(path: Path) -> tuple[Transcript | None, str | None]:
    """The file's transcript with prosody, or None and why not."""
    from tools.media import probe_media
    from tools.speech import transcribe

    if not probe_media(path).has_audio:
        return None, "no audio track"
    try:
        transcript = transcribe(path, prosody=True)
    except MienError as error:
        return None, str(error)
    return transcript, transcript.note


def _speakers(path: Path, transcript: Transcript, fps: float | None) -> SpeakerAttribution:
    """Who said each segment (mouth motion against voice activity), so each person's voice and words are theirs.

    The face tracks are found the way ``analyze_emotions`` finds them (same sampling, no embeddings), so the track
    numbers agree."""
    from tools.faces import FaceOptions, analyze_video

    tracks = analyze_video(path, FaceOptions(embeddings=False, pose=False), fps).tracks
    return attribute_speakers(tracks, transcript)


def _scene_text(path: Path) -> str | None:
    """The served vision model's description of the clip's middle frame (the CER scene modality)."""
    from agent.model import open_endpoint
    from agent.scene import describe_scene
    from tools.media import iter_frames, probe_media
    from tools.settings import get_settings

    settings = get_settings()
    if settings.llm_base_url is None:
        raise ConfigError("--scene needs a served vision model: set MIEN_LLM_BASE_URL (e.g. Qwen2.5-VL on vLLM)")
    middle_s = probe_media(path).duration_s / 2
    frame = next(f for f in iter_frames(path, start_s=middle_s))
    with open_endpoint(settings) as endpoint:
        text = describe_scene(endpoint, frame.image, settings)
    if text is None:
        raise ConfigError(
            f"the model at {settings.llm_base_url} does not accept images, so it cannot describe the scene"
        )
    return text


def _physiology(signals: Path, path: Path) -> ModalityProbabilities:
    """The physiology modality of the clip: the arousal heuristic over the signals (checked against the video's
    clock before any frame is analysed)."""
    from tools.expression.modalities.physiology import arousal_probabilities
    from tools.media import probe_media
    from tools.spotting.physio import read_signals
    from tools.spotting.physio.features import clip_arousal

    duration_s = probe_media(path).duration_s
    body = read_signals(signals)
    body.check_overlap(0.0, duration_s)
    return arousal_probabilities(clip_arousal(body, duration_s))


def _print_compound(compounds: list[TrackCompound]) -> None:
    table = Table(title="compound expressions (zero-shot CER: fused modalities, pair-wise probability aggregation)")
    for column in ("#", "compound", "p", "fused basic", "modalities"):
        table.add_column(column, overflow="fold")
    for item in compounds:
        result = item.result
        best = result.top_compound
        present = [m.modality for m in result.modalities if m.probabilities is not None]
        probabilities = result.compound.probabilities
        table.add_row(
            str(item.track_id), best, f"{float(np.max(probabilities)):.2f}", result.top_basic, ", ".join(present)
        )
    console.print(table)


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
    compound: bool = typer.Option(
        False, "--compound", help="Fuse face, dynamics, voice and words into compound expressions (CER)."
    ),
    scene: bool = typer.Option(
        False, "--scene", help="With --compound: ask the served vision model (MIEN_LLM_BASE_URL) to describe the scene."
    ),
    signals: Path | None = typer.Option(
        None, "--signals", help="With --compound: physiological signals recorded with the video (CSV or EDF), "
        "fused as the physiology modality (an arousal heuristic)."
    ),
) -> None:
    """Estimate the emotions and action units of every person in PATH."""
    if signals is not None and not compound:
        raise ConfigError("--signals is a modality of --compound: add --compound")
    body = _physiology(signals, path) if signals is not None else None
    with media_progress("emotions", enabled=not as_json) as progress:
        result = analyze_emotions(path, fps=fps, model=model, progress=progress)
    if not result.timelines:
        raise NoFaceError(f"{path}: no face found, so no emotions to estimate")
    note = None
    speech: Transcript | None = None
    if (transcript or compound) and result.kind == "video":
        speech, note = _speech(path)
    scene_text = _scene_text(path) if compound and scene else None
    speakers = _speakers(path, speech, fps) if compound and speech is not None and speech.segments else None
    compounds = compound_expressions(result, speech, scene_text, speakers, body) if compound else []
    if plot is not None:
        markers = [(s.start_s, s.text) for s in speech.segments] if speech is not None and transcript else []
        written = plot_timeline(result, plot, transcript=markers)
    if as_json:
        payload = result.to_dict()
        if plot is not None:
            payload["plot"] = str(written)
        if compound:
            payload["compound"] = [c.to_dict() for c in compounds]
        emit_json(payload)
        return
    _print_table(result)
    if compound:
        _print_compound(compounds)
    if plot is not None:
        console.print(f"timeline: {written}")
    if note and (transcript or compound):
        console.print(f"speech: {note}")


def register(app: typer.Typer) -> None:
    app.command("emotions")(emotions)
