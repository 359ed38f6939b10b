"""Perception of one uploaded file for the page: identities, emotion timeline plot, transcript, spotted intervals.

Each stage reports progress (``ProgressSink``) so the page shows what runs. Identification goes through the agent's
evidence cache with the same key the agent uses, so a later "who is this?" answers from it. A stage that cannot
apply (no audio, a still image, no face) leaves a note saying why, and a stage that fails leaves its error as the
note: the rest of the overview still stands. The result is kept as JSON beside the plot under the data folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.evidence import EvidenceCache
from servers.web.protocol import Identity, Interval, MediaItem, Overview, Segment
from tools.errors import MienError
from tools.langchain_tools.base import tool_versions
from tools.langchain_tools.recognition import build as build_identify
from tools.settings import Settings
from tools.storage import atomic_write_bytes

# (stage, fraction done 0..1, message) — the page draws one progress bar per stage.
ProgressSink = Callable[[str, float, str], None]
OVERVIEW_VERSION = "1"


def overview_dir(settings: Settings) -> Path:
    return settings.home / "web" / "overview"


def cached_overview(settings: Settings, media_id: str) -> Overview | None:
    path = overview_dir(settings) / f"{media_id}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Overview.model_validate(data) if data.pop("version", None) == OVERVIEW_VERSION else None


def build_overview(settings: Settings, item: MediaItem, path: Path, progress: ProgressSink) -> Overview:
    """Run every stage on ``path`` and store the overview; ``progress`` hears each stage start, move and end."""
    seconds: dict[str, float] = {}
    notes: dict[str, str | None] = {}

    def stage(name: str, run: Callable[[], Any], skip: str | None = None) -> Any:
        if skip is not None:
            notes[name] = skip
            progress(name, 1.0, skip)
            return None
        progress(name, 0.0, "running")
        started = time.perf_counter()
        try:
            result = run()
        except MienError as error:
            notes[name] = str(error)
            progress(name, 1.0, f"failed: {error}")
            return None
        seconds[name] = round(time.perf_counter() - started, 2)
        progress(name, 1.0, f"done in {seconds[name]:.1f} s")
        return result

    def moved(name: str) -> Callable[[float, float], None]:
        """A stage's own progress callback, passed on in 5 % steps (a frame-by-frame stream floods the page)."""
        last = [-1.0]

        def report(done: float, total: float) -> None:
            fraction = min(done / total, 0.99) if total else 0.5
            if fraction - last[0] >= 0.05:
                last[0] = fraction
                progress(name, fraction, "running")

        return report

    visual = item.kind in ("video", "image")
    identities = stage("identities", lambda: _identities(settings, path), None if visual else "no picture to look at")
    from tools.expression.analyze import analyze_emotions

    emotions = stage(
        "emotions",
        lambda: analyze_emotions(path, progress=moved("emotions"), settings=settings),
        None if visual else "no picture: emotions are read from faces",
    )
    transcript = stage("transcript", lambda: _transcript(path), None if item.has_audio else "the file has no audio")
    from tools.spotting import spot_video

    spotting = stage(
        "spotting",
        lambda: spot_video(path, progress=moved("spotting"), settings=settings),
        None if item.kind == "video" else "spotting needs a video",
    )
    timeline_url = None
    if emotions is not None:
        timeline_url = stage("timeline", lambda: _plot(settings, item, emotions, transcript, spotting))
    overview = Overview(
        media_id=item.id,
        timeline_url=timeline_url,
        emotion_model=emotions.model if emotions is not None else None,
        au_source=emotions.au_source if emotions is not None else None,
        transcript=[Segment(start_s=round(s.start_s, 2), end_s=round(s.end_s, 2), text=s.text)
                    for s in (transcript.segments if transcript is not None else []) if s.text.strip()],
        transcript_note=notes.get("transcript") or (transcript.note if transcript is not None else None),
        intervals=[_interval(i) for i in (spotting.intervals if spotting is not None else [])],
        spotting_note=notes.get("spotting") or ("; ".join(spotting.notes) if spotting and spotting.notes else None),
        identities=identities or [],
        identity_note=notes.get("identities") or _identity_note(settings, identities),
        seconds=seconds,
    )
    payload = {"version": OVERVIEW_VERSION, **overview.model_dump()}
    atomic_write_bytes(overview_dir(settings) / f"{item.id}.json", json.dumps(payload).encode("utf-8"))
    return overview


def _identities(settings: Settings, path: Path) -> list[Identity]:
    """Names from the gallery through the agent's own tool and evidence cache (args as the agent passes them)."""
    tool = build_identify(settings)
    args = {"media": str(path)}

    def compute() -> tuple[str, dict[str, Any]]:
        message = tool.invoke({"name": tool.name, "args": args, "id": "overview", "type": "tool_call"})
        return str(message.content), dict(message.artifact or {})

    record, _ = EvidenceCache(settings.home / "evidence").get_or_compute(
        path, tool.name, args, tool_versions(tool), compute
    )
    people = record.artifact.get("facts", {}).get("people", [])
    return [
        Identity(person=int(p["person"]), position=p.get("position"), name=str(p["label"]), score=float(p["score"]))
        for p in people
    ]


def _identity_note(settings: Settings, identities: list[Identity] | None) -> str | None:
    if not identities:
        return "no face found"
    from tools.recognition import PlainGallery

    if not PlainGallery(settings.resolved_gallery_path).names():
        return "nobody is enrolled in the gallery yet (mien gallery add NAME PHOTO), so nobody can be named"
    return None


def _transcript(path: Path) -> Any:
    from tools.speech import transcribe

    return transcribe(path)


def _interval(interval: Any) -> Interval:
    return Interval(
        person=interval.track_id,
        kind=interval.kind,
        onset_s=round(interval.onset_s, 2),
        apex_s=round(interval.apex_s, 2),
        offset_s=round(interval.offset_s, 2),
        label=interval.label,
        action_units=list(interval.action_units[:3]),
    )


def _plot(settings: Settings, item: MediaItem, emotions: Any, transcript: Any, spotting: Any) -> str:
    """The emotion timeline PNG with the transcript and the spotted intervals drawn on it; its URL."""
    from tools.expression.timeline import TimelineSpan, plot_timeline
    from tools.spotting.plot import KIND_COLOURS, emotion_track_of, interval_caption

    spans = [
        TimelineSpan(emotion_track_of(i, emotions), i.onset_s, i.offset_s, interval_caption(i), KIND_COLOURS[i.kind])
        for i in (spotting.intervals if spotting is not None else [])
    ]
    lines = [(s.start_s, s.text) for s in transcript.segments] if transcript is not None else []
    title = f"{item.name}: emotions per person ({emotions.model})"
    if spans:
        title += "; spotted intervals shaded (red micro, blue macro)"
    plot_timeline(emotions, overview_dir(settings) / f"{item.id}-timeline.png", transcript=lines, title=title,
                  intervals=spans)
    return f"/files/web/overview/{item.id}-timeline.png"
