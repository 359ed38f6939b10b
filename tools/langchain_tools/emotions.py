"""Emotions as a tool: each person's basic emotion over the file, with the action units behind it.

Per person: the label of the mean (smoothed) probabilities, its probability, the action units that are on
(mean intensity over the person's frames, strongest first), those that could not be measured and why, and the
emotions of the other people seen in the same frames (SoVTP's third stage). The marks for SoVTP carry each face's
box, landmarks (from the face pipeline on the key frames only) and its label and AUs at that frame.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from langchain_core.tools import BaseTool

from tools.expression.analyze import analyze_emotions
from tools.expression.au_rules import AU_NAMES
from tools.expression.others import OtherPersonEmotion, others_emotions
from tools.expression.types import EmotionAnalysis, EmotionEstimate, ExpressionTimeline
from tools.faces import FaceOptions, analyze_image
from tools.faces.types import Face
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import KEY_FRAMES, face_mark, package_version, people_label, position_word
from tools.langchain_tools.types import FaceMark, Finding
from tools.media import iter_frames, probe_media
from tools.settings import Settings, get_settings

MAX_AUS = 5  # action units listed per person, strongest first
MARK_AUS = 3  # action units drawn beside a face
ON_INTENSITY = 1.0  # FACS trace level: an AU at or above it is "on"


def emotion_versions(settings: Settings) -> dict[str, str]:
    return {
        "expression_model": settings.expression_model,
        "au_model": settings.au_model,
        "smoothing_s": f"{settings.expression_smoothing_s:g}",
        "video_fps": f"{settings.video_fps:g}",
        "detector": settings.detector,
        "mediapipe": package_version("mediapipe"),
    }


def mean_action_units(timeline: ExpressionTimeline) -> list[tuple[str, str, float]]:
    """(au, name, mean intensity) of the AUs on over the track, strongest first, at most ``MAX_AUS``."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for estimate in timeline.estimates:
        for unit in estimate.action_units or ():
            if unit.intensity is not None:  # not measurable in this frame: no number to average
                sums[(unit.au, unit.name)].append(unit.intensity)
    means = [(au, name, float(np.mean(values))) for (au, name), values in sums.items()]
    on = [item for item in means if item[2] >= ON_INTENSITY]
    return sorted(on, key=lambda item: -item[2])[:MAX_AUS]


def estimate_labels(estimate: EmotionEstimate) -> list[str]:
    """What SoVTP writes beside a face: its label at this frame, then its strongest AUs."""
    labels = [f"{estimate.top_label} {estimate.top_probability:.2f}"] if estimate.top_label else []
    units = estimate.action_units.active(ON_INTENSITY)[:MARK_AUS] if estimate.action_units else []
    for au in units:
        unit = estimate.action_units.get(au) if estimate.action_units else None
        if unit is not None and unit.intensity is not None:
            labels.append(f"{unit.au} {unit.name} {unit.intensity:.1f}")
    return labels


def not_measurable_facts(timeline: ExpressionTimeline) -> list[str]:
    """``"AU5, AU7, AU45: eyes covered (...) in 3 of 10 frames"``: the AUs the track could not measure, by reason."""
    by_reason: dict[str, set[str]] = defaultdict(set)
    frames: dict[str, int] = defaultdict(int)
    for estimate in timeline.estimates:
        if estimate.action_units is None:
            continue
        reasons = estimate.action_units.not_measurable()
        for au, reason in reasons.items():
            by_reason[reason].add(au)
        for reason in set(reasons.values()):
            frames[reason] += 1
    total = len(timeline.estimates)
    order = {rule_au: i for i, rule_au in enumerate(AU_NAMES)}
    return [
        f"{', '.join(sorted(aus, key=lambda au: order.get(au, 99)))}: {reason}"
        + (f" in {frames[reason]} of {total} frames" if total > 1 else "")
        for reason, aus in by_reason.items()
    ]


def person_facts(
    timeline: ExpressionTimeline, frame_width: int, video: bool, others: list[OtherPersonEmotion] | None = None
) -> dict[str, Any]:
    summary = timeline.to_dict(with_frames=False)
    mean = timeline.mean_probabilities()
    key = timeline.estimates[len(timeline.estimates) // 2]
    facts: dict[str, Any] = {"person": timeline.track_id}
    if key.box is not None:
        facts["position"] = position_word(Face(box=key.box, score=1.0), frame_width)
    facts["label"] = summary["top_label"] or "not scored"
    if mean is not None:
        facts["probability"] = round(float(np.max(mean)), 2)
    facts["action_units"] = [f"{au} {name} {intensity:.1f}" for au, name, intensity in mean_action_units(timeline)]
    # One string each (not a list): every list item becomes its own prompt fact, and facts are few.
    unmeasured = not_measurable_facts(timeline)
    if unmeasured:
        facts["action_units_not_measurable"] = "; ".join(unmeasured)
    if others:  # SoVTP stage 3: how the people seen in the same frames feel
        facts["others_in_same_frames"] = "; ".join(other.describe() for other in others)
    if video:
        facts["on_screen_s"] = [summary["start_s"], summary["end_s"]]
    skipped = next((e.skipped_reason for e in timeline.estimates if e.skipped_reason), None)
    if mean is None and skipped:
        facts["note"] = skipped
    return facts


def key_frame_marks(analysis: EmotionAnalysis, media: str) -> list[FaceMark]:
    """Marks on up to ``KEY_FRAMES`` frames (most faces first, then spread in time), with landmarks added by
    running the face pipeline on those frames only and matching faces by box overlap."""
    by_frame: dict[int, list[EmotionEstimate]] = defaultdict(list)
    for estimate in analysis.estimates:
        if estimate.box is not None:
            by_frame[int(estimate.frame_index or 0)].append(estimate)
    if not by_frame:
        return []
    frames = sorted(by_frame)
    fullest = max(frames, key=lambda index: len(by_frame[index]))
    spread = [frames[round(i * (len(frames) - 1) / max(KEY_FRAMES - 1, 1))] for i in range(KEY_FRAMES)]
    chosen = set(list(dict.fromkeys([fullest, *spread]))[:KEY_FRAMES])
    fps = analysis.sample_fps or None
    marks: list[FaceMark] = []
    for frame in iter_frames(media, fps):
        if frame.index not in chosen:
            continue
        meshed = analyze_image(frame.image, FaceOptions(mesh=True, pose=False, embeddings=False))
        for estimate in by_frame[frame.index]:
            box = estimate.box
            assert box is not None
            face = max(meshed, key=lambda f: f.box.iou(box), default=None)
            if face is None or face.box.iou(box) < 0.5:
                face = Face(box=box, score=1.0)
            face.track_id, face.time_s = estimate.track_id, estimate.time_s
            marks.append(face_mark(face, estimate_labels(estimate)))
        if frame.index >= max(chosen):
            break
    return marks


def read_emotions(media: str) -> Finding:
    """Each person's emotion in ``media`` with the action units that support it."""
    settings = get_settings()
    info = probe_media(media, settings)
    analysis = analyze_emotions(media, settings=settings)
    video = info.kind == "video"
    others = others_emotions(analysis)
    people = [
        person_facts(t, info.width, video, others.get(t.track_id)) for t in analysis.timelines if t.estimates
    ]
    labels = [p["label"] for p in people if p["label"] != "not scored"]
    if not labels:
        label = None
        summary = f"no face could be scored in the {info.kind}" if people else f"no face found in the {info.kind}"
    elif len(set(labels)) == 1:
        label = labels[0]
        summary = f"{people_label(len(people))}: {label}"
    else:
        label = "; ".join(f"#{p['person']} {p['label']}" for p in people)
        summary = f"{people_label(len(people))} with different emotions: {label}"
    facts = {"model": analysis.model, "action_unit_source": analysis.au_source, "people": people}
    return Finding("read_emotions", media, label, summary, facts, key_frame_marks(analysis, media))


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="read_emotions",
        description="Read each person's facial emotion (neutral, anger, disgust, fear, happiness, sadness, surprise) "
        "in an image or video, with the facial action units behind it, over time.",
        run=read_emotions,
        args_schema=MediaArgs,
        versions=emotion_versions(settings),
        examples=[
            "How does she feel?",
            "What is his mood?",
            "Is the person happy or sad?",
            "What emotion does the astronaut show?",
            "How do the people in this clip feel?",
            "Does anyone look angry?",
            "How does the woman on the left feel at 0:12, and why?",
            "What expression is on her face?",
            "Is she smiling?",
            "Is anyone sad?",
            "Does he look happy?",
        ],
        prompt="sovtp",
    )
