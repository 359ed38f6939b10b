"""Spotted intervals drawn on the emotion timeline (``tools.expression.timeline``): one shaded span per interval
on its person's panel, micro-expressions red, macro-expressions blue, captioned with kind, label and apex time.

The spotter and the emotion pipeline track people separately, so each interval goes to the emotion track whose
face box at the nearest analysed frame overlaps the interval's apex box most.
"""

from __future__ import annotations

from pathlib import Path

from tools.expression.timeline import TimelineSpan, plot_timeline
from tools.expression.types import EmotionAnalysis
from tools.faces.types import Box
from tools.spotting.types import ExpressionInterval, SpottingResult

KIND_COLOURS = {"micro": "#d62728", "macro": "#1f77b4"}


def emotion_track_of(interval: ExpressionInterval, emotions: EmotionAnalysis) -> int:
    """The emotion timeline's person number for ``interval`` (the spotter's own number if nothing overlaps)."""
    apex = Box(*interval.apex_box)
    best, best_iou = interval.track_id, 0.0
    for timeline in emotions.timelines:
        near = min(timeline.estimates, key=lambda e: abs((e.time_s or 0.0) - interval.apex_s), default=None)
        if near is None or near.box is None or abs((near.time_s or 0.0) - interval.apex_s) > 1.0:
            continue
        iou = near.box.iou(apex)
        if iou > best_iou:
            best, best_iou = timeline.track_id, iou
    return best


def interval_caption(interval: ExpressionInterval) -> str:
    label = interval.label or "unlabelled"
    return f"{interval.kind} {label} {interval.apex_s:.2f}s"


def plot_spotting(result: SpottingResult, emotions: EmotionAnalysis, out_path: str | Path) -> Path:
    """Write the emotion timeline of ``emotions`` with ``result``'s intervals shaded on it; return the PNG path."""
    spans = [
        TimelineSpan(emotion_track_of(i, emotions), i.onset_s, i.offset_s, interval_caption(i), KIND_COLOURS[i.kind])
        for i in result.intervals
    ]
    title = (f"{Path(result.path).name}: emotions per person, spotted intervals shaded "
             f"(red micro, blue macro; {len(result.of_kind('micro'))} micro, {len(result.of_kind('macro'))} macro)")
    return plot_timeline(emotions, out_path, title=title, intervals=spans)
