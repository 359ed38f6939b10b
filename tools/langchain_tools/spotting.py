"""Expression spotting as a tool: when each person shows a micro- or macro-expression, what it is, which AUs moved.

The model reads one line per interval with its times in seconds (onset, apex, offset), kind, label and moved AUs;
the label of the finding is the first micro-expression (the question users ask most), else the first
macro-expression. Labels come from AU estimates at the apex (mesh geometry): the facts say so.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import package_version
from tools.langchain_tools.types import FaceMark, Finding
from tools.settings import Settings, get_settings
from tools.spotting import ExpressionInterval, SpottingResult, spot_video
from tools.spotting.labels import PROTOTYPES

MAX_LISTED = 12  # intervals written out for the model, strongest first; the rest are counted


def interval_fact(interval: ExpressionInterval) -> dict[str, Any]:
    return {
        "person": interval.track_id,
        "kind": interval.kind,
        "onset_s": round(interval.onset_s, 2),
        "apex_s": round(interval.apex_s, 2),
        "offset_s": round(interval.offset_s, 2),
        "frames": interval.frames,
        "label": interval.label or "unlabelled",
        "action_units": list(interval.action_units[:3]),
        "regions": list(interval.regions),
    }


def interval_phrase(interval: ExpressionInterval) -> str:
    label = f" ({interval.label})" if interval.label else ""
    return (f"a {interval.kind}-expression{label} of person {interval.track_id} from {interval.onset_s:.2f} s to "
            f"{interval.offset_s:.2f} s, apex at {interval.apex_s:.2f} s")


def spotting_finding(media: str, result: SpottingResult) -> Finding:
    """The tool's answer for one spotting result."""
    micro, macro = result.of_kind("micro"), result.of_kind("macro")
    first = (micro or macro)[0] if (micro or macro) else None
    if not result.tracks:
        summary, label = "no face found in the video, so no expression could be spotted", None
    elif first is None:
        summary, label = f"no micro- or macro-expression spotted in {result.duration_s:.1f} s of video", "none spotted"
    else:
        label = f"{first.kind}-expression at {first.onset_s:.2f}-{first.offset_s:.2f} s" + (
            f" ({first.label})" if first.label else "")
        counts = f"{len(micro)} micro- and {len(macro)} macro-expressions spotted"
        summary = f"{counts}; the first is {interval_phrase(first)}"
    listed = sorted(result.intervals, key=lambda i: -i.score)[:MAX_LISTED]
    facts: dict[str, Any] = {
        "method": result.method,
        "label_method": "emotion from AU estimates at the apex (mesh geometry, AU prototypes); an estimate",
        "micro_max_s": 0.5,
        "intervals": [interval_fact(i) for i in sorted(listed, key=lambda i: i.onset_s)],
    }
    if len(result.intervals) > MAX_LISTED:
        facts["not_listed"] = len(result.intervals) - MAX_LISTED
    if result.notes:
        facts["notes"] = list(result.notes)
    marks = [
        FaceMark(i.track_id, i.apex_s, list(i.apex_box),
                 labels=[f"{i.kind} {i.label or 'unlabelled'} {i.onset_s:.2f}-{i.offset_s:.2f}s",
                         *[au for au in i.action_units[:2]]])
        for i in listed[:4]
        if i.apex_box[2] > i.apex_box[0]
    ]
    return Finding("spot_expressions", media, label, summary, facts, marks)


def spot_expressions(media: str) -> Finding:
    """Micro- and macro-expression intervals in ``media``."""
    result = spot_video(media, settings=get_settings())
    return spotting_finding(media, result)


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="spot_expressions",
        description="Find when each person in a video shows a micro-expression (at most 0.5 s) or a "
        "macro-expression: onset, apex and offset times in seconds, the emotion and the facial action units "
        f"that moved ({', '.join(PROTOTYPES)}).",
        run=spot_expressions,
        args_schema=MediaArgs,
        versions={"spotter": "training-free-1", "mediapipe": package_version("mediapipe")},
        examples=[
            "When does the person show a micro-expression?",
            "Are there any micro-expressions in this interview?",
            "When does she show a micro-expression, and what is it?",
            "At what time does his expression change?",
            "Find the fleeting expressions in this video.",
            "When does he briefly smile?",
            "List the onset, apex and offset of every expression.",
            "Spot the macro- and micro-expressions.",
        ],
        prompt="plain",
        kinds=("video",),
    )
