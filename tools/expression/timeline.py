"""A PNG of emotion probabilities over time: one panel per tracked person, transcript markers on top.

Each panel shows the smoothed (dynamic) probability of every basic emotion as a line and the per-frame (static)
probabilities as faint dots, so flicker and smoothing are both visible; frames the model skipped are gaps.
Transcript markers are ``(time_s, text)`` pairs (e.g. segment starts from ``tools.speech``) drawn as dashed
vertical lines with their text; the plot does not depend on the speech module's types. A still image (one frame
per person) is drawn as one bar chart per person instead.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.types import EmotionAnalysis, ExpressionTimeline
from tools.storage import atomic_path

# One colour per basic emotion, fixed so every plot reads the same way.
EMOTION_COLOURS: dict[str, str] = {
    "Neutral": "#7f7f7f",
    "Anger": "#d62728",
    "Disgust": "#8c564b",
    "Fear": "#9467bd",
    "Happiness": "#ffbf00",
    "Sadness": "#1f77b4",
    "Surprise": "#2ca02c",
}
MARKER_TEXT_CHARS = 28


@dataclass(frozen=True)
class TimelineSpan:
    """A time span to shade on one person's panel: ``colour`` any matplotlib colour, ``text`` its caption."""

    track_id: int
    start_s: float
    end_s: float
    text: str
    colour: str = "#d62728"


def _draw_spans(ax: Any, spans: Sequence[TimelineSpan]) -> None:
    for number, span in enumerate(sorted(spans, key=lambda s: s.start_s)):
        # A micro-expression can last 4 frames: widen it to stay visible on a long axis.
        ax.axvspan(span.start_s, max(span.end_s, span.start_s + 0.05), color=span.colour, alpha=0.22, lw=0)
        ax.text(span.start_s, 0.62 - 0.1 * (number % 3), " " + _marker_label(span.text), fontsize=7.5,
                color=span.colour, va="top", ha="left",
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.0})


def _marker_label(text: str) -> str:
    return textwrap.shorten(" ".join(text.split()), MARKER_TEXT_CHARS, placeholder="…")


def plot_timeline(
    timelines: EmotionAnalysis | Sequence[ExpressionTimeline],
    out_path: str | Path,
    transcript: Sequence[tuple[float, str]] | None = None,
    title: str | None = None,
    dpi: int = 110,
    intervals: Sequence[TimelineSpan] | None = None,
) -> Path:
    """Write the emotion timeline PNG of ``timelines`` to ``out_path`` (atomically) and return the path.

    ``intervals`` are spans shaded on their person's panel (e.g. spotted micro-expressions from
    ``tools.spotting``), each with a short text written at its start.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tracks = list(timelines.timelines) if isinstance(timelines, EmotionAnalysis) else list(timelines)
    if title is None and isinstance(timelines, EmotionAnalysis):
        title = f"{Path(timelines.path).name}: emotions per person ({timelines.model})"
    out = Path(out_path)
    if out.suffix.lower() != ".png":
        out = out.with_suffix(".png")
    still = all(len(t.estimates) <= 1 for t in tracks)
    panels = max(1, len(tracks))
    header_in = 0.2 if still else 0.55  # title, plus the legend above the panels of a video
    fig_h = (1.9 if still else 2.3) * panels + header_in + 0.4
    fig, axes = plt.subplots(panels, 1, figsize=(11, fig_h), sharex=not still, squeeze=False)
    try:
        if not tracks:
            axes[0, 0].text(0.5, 0.5, "no face found", ha="center", va="center", fontsize=14)
            axes[0, 0].set_axis_off()
        for ax, track in zip(axes[:, 0], tracks, strict=False):
            if still:
                _draw_bars(ax, track)
            else:
                _draw_track(ax, track, transcript or [])
                _draw_spans(ax, [span for span in intervals or () if span.track_id == track.track_id])
        if title:
            fig.suptitle(title, y=1.0 - 0.08 / fig_h, va="top", fontsize=11)
        if not still and tracks:
            axes[-1, 0].set_xlabel("time (s)")
            handles = [plt.Line2D([0], [0], color=EMOTION_COLOURS[e], lw=2.5, label=e) for e in BASIC_EMOTIONS]
            fig.legend(handles=handles, loc="upper center", ncol=7, frameon=False,
                       bbox_to_anchor=(0.5, 1.0 - 0.38 / fig_h))
        fig.tight_layout(rect=(0, 0, 1, 1.0 - header_in / fig_h))
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return out


def _draw_track(ax: Any, track: ExpressionTimeline, transcript: Sequence[tuple[float, str]]) -> None:
    times = track.times_s
    static = track.probabilities
    smoothed = track.dynamics.smoothed if track.dynamics is not None else static
    for index, emotion in enumerate(BASIC_EMOTIONS):
        colour = EMOTION_COLOURS[emotion]
        ax.plot(times, smoothed[:, index], color=colour, lw=2.0)
        ax.scatter(times, static[:, index], color=colour, s=7, alpha=0.35, linewidths=0)
    skipped = [e.time_s or 0.0 for e in track.estimates if e.probabilities is None]
    if skipped:
        ax.scatter(skipped, [0.02] * len(skipped), marker="x", color="black", s=14,
                   label="not scored (face too small)")
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("probability")
    ax.grid(alpha=0.25)
    label = track.to_dict(with_frames=False)["top_label"] or "-"
    ax.set_title(f"person {track.track_id}: mostly {label} ({len(track.estimates)} frames)",
                 fontsize=10, loc="left")
    for number, (time_s, text) in enumerate(sorted(transcript, key=lambda m: m[0])):
        ax.axvline(time_s, color="black", ls="--", lw=0.8, alpha=0.6)
        y = 1.0 - 0.12 * (number % 3)  # stagger labels so neighbours do not overlap
        ax.text(time_s, y, " " + _marker_label(text), fontsize=7.5, va="top", ha="left",
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.0})


def _draw_bars(ax: Any, track: ExpressionTimeline) -> None:
    probabilities = track.probabilities
    values = probabilities[0] if len(probabilities) and not np.isnan(probabilities[0]).any() else np.zeros(7)
    ax.bar(BASIC_EMOTIONS, values, color=[EMOTION_COLOURS[e] for e in BASIC_EMOTIONS])
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("probability")
    estimate = track.estimates[0] if track.estimates else None
    heading = f"person {track.track_id}: "
    if estimate is None or estimate.probabilities is None:
        heading += estimate.skipped_reason if estimate and estimate.skipped_reason else "not scored"
    else:
        heading += f"{estimate.top_label} ({estimate.top_probability:.2f})"
        if estimate.action_units is not None:
            heading += "  AU estimates: " + (", ".join(estimate.action_units.active(2.0)[:6]) or "none")
    ax.set_title(heading, fontsize=10, loc="left")
