"""The reasoning message: the tools' evidence turned into a SoVTP, DEEMO or plain prompt, with key frames.

SoVTP (affect): key frames drawn with numbered boxes, landmarks and AU labels, plus the five-stage text. DEEMO
(de-identified, or "without looking at faces"): transcript, prosody, body cues, faces hidden in every frame and no
landmarks drawn. Plain (counting, naming, transcripts): the evidence and the question. Frames are saved to disk,
so that the answer can cite exactly what the model was shown; a text-only model gets the text alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.messages import HumanMessage

from agent.privacy import PrivacyGuard, image_data_url
from agent.router import Focus
from agent.state import PromptStyle
from agent.untrusted import fence_finding
from prompts.deemo import DEEMO_VERSION, DeidentifiedCues, deemo_text
from prompts.sovtp import SOVTP_VERSION, draw_sovtp_frame, sovtp_text
from tools.deidentify import anonymize_faces, hide_faces
from tools.faces.types import Box
from tools.langchain_tools.types import FaceMark, Finding
from tools.media import iter_frames, save_image

PLAIN_VERSION = "plain-v1"
MAX_IMAGE_SIDE_PX = 1024  # frames are downscaled to this before they are sent

_PLAIN = (
    "Answer the question from the evidence measured by perception tools (people are numbered).\n"
    "Evidence:\n{evidence}\n\nQuestion: {question}\n"
    "Answer in at most {max_words} words, citing the evidence."
)


@dataclass(frozen=True)
class ReasoningPrompt:
    """The user message for the answer, the template it used, and the frames saved per finding (by media+tool)."""

    message: HumanMessage
    version: str
    frames: dict[str, list[str]] = field(default_factory=dict)


def evidence_lines(findings: list[Finding], with_faces: bool = True) -> list[str]:
    """One line per finding and one per person in it, compact enough for a small model's context."""
    lines: list[str] = []
    for finding in findings:
        lines.append(f"- {finding.tool} on {Path(finding.media).name}: {finding.summary}")
        for person in finding.facts.get("people", []) if with_faces else []:
            if isinstance(person, dict) and "person" in person:
                lines.append(f"  #{person['person']}: {_person_details(person)}")
    return lines


def reasoning_prompt(
    question: str,
    findings: list[Finding],
    style: PromptStyle,
    focus: Focus,
    *,
    vision: bool,
    guard: PrivacyGuard,
    frames_dir: Path,
    key_frames: int,
    faces_allowed: bool = True,
    max_words: int = 120,
) -> ReasoningPrompt:
    """The message that asks the model for its explanation. ``faces_allowed`` is False for "without faces"."""
    deidentify_frames = style == "deemo" or guard.active
    frames = _key_frames(findings, focus, key_frames, frames_dir, deidentify_frames, faces_allowed) if vision else {}
    images = [path for paths in frames.values() for path in paths]
    kind = _media_kind(findings)
    findings = [fence_finding(finding) for finding in findings]  # the media's words, fenced (agent.untrusted)
    if style == "sovtp":
        text, version = (
            sovtp_text(question, "\n".join(evidence_lines(findings)), kind, len(images), max_words),
            SOVTP_VERSION,
        )
    elif style == "deemo":
        text, version = deemo_text(question, deidentified_cues(findings, faces_allowed), max_words), DEEMO_VERSION
    else:
        evidence = "\n".join(evidence_lines(findings)) or "- (no tool was run for this question)"
        text, version = _PLAIN.format(evidence=evidence, question=question, max_words=max_words), PLAIN_VERSION
    content: list[str | dict[str, Any]] = [{"type": "text", "text": text}]
    content += [{"type": "image_url", "image_url": {"url": _data_url(path)}} for path in images]
    return ReasoningPrompt(HumanMessage(content=content if images else text), version, frames)


def deidentified_cues(findings: list[Finding], faces_allowed: bool) -> DeidentifiedCues:
    """Transcript, prosody, body cues and (if allowed) expression numbers, all by person number, no names."""
    transcript: list[str] = []
    prosody: list[str] = []
    body: list[str] = []
    expression: list[str] = []
    for finding in findings:
        if finding.tool == "transcribe_speech":
            for segment in finding.facts.get("segments", []):
                span = f"[{segment['from_s']:.1f}-{segment['to_s']:.1f} s]"
                speaker = f" person {segment['person']}:" if "person" in segment else ""  # who said it, in videos
                transcript.append(f"{span}{speaker} {segment['text']}")
                if segment.get("prosody"):
                    prosody.append(f"{span} " + ", ".join(f"{k} {v}" for k, v in segment["prosody"].items()))
        elif finding.tool == "find_faces":
            for person in finding.facts.get("people", []):
                yaw = person.get("head_yaw_deg")
                turned = "faces the camera" if yaw is None or abs(yaw) < 20 else f"head turned {abs(yaw)} degrees away"
                body.append(f"person {person['person']} ({person.get('position')}): {turned}")
        elif finding.tool == "read_body_language":
            for person in finding.facts.get("people", []):
                cues = "; ".join(str(cue) for cue in person.get("body_cues", [])) or "none observed"
                body.append(f"person {person['person']} ({person.get('position')}): {cues}")
        elif faces_allowed and finding.tool == "read_emotions":
            people = [p for p in finding.facts.get("people", []) if isinstance(p, dict) and "person" in p]
            expression += [f"person {person['person']}: {_person_details(person)}" for person in people]
    return DeidentifiedCues(transcript, prosody, body, expression)


def _key_frames(
    findings: list[Finding], focus: Focus, count: int, frames_dir: Path, deidentify: bool, faces_allowed: bool
) -> dict[str, list[str]]:
    """Draw the marks of the most relevant finding on up to ``count`` frames; save them; paths per finding."""
    marked = [finding for finding in findings if finding.marks]
    # Prefer marks that carry labels (emotions and AUs) over bare boxes.
    source = next((f for f in marked if any(mark.labels for mark in f.marks)), marked[0] if marked else None)
    if source is None or count <= 0:
        return {}
    by_time: dict[float, list[FaceMark]] = {}
    for mark in source.marks:
        by_time.setdefault(round(mark.time_s, 3), []).append(mark)
    if focus.time_s is not None:
        times = sorted(by_time, key=lambda t: abs(t - float(focus.time_s or 0.0)))[:count]
    else:
        times = sorted(by_time, key=lambda t: (-len(by_time[t]), t))[:count]
    saved: list[str] = []
    for time_s in sorted(times):
        frame = _frame_at(source.media, time_s)
        marks = by_time[time_s]
        if deidentify:
            # Hide the tracked boxes (seen even where a fresh detection might miss) and whatever is detected now.
            frame = hide_faces(anonymize_faces(frame, [Box(*m.box) for m in marks])).image
            marks = [FaceMark(m.track_id, m.time_s, m.box, [], m.labels if faces_allowed else []) for m in marks]
        drawn = _fit(draw_sovtp_frame(frame, marks))
        tag = "deid" if deidentify else "full"
        path = frames_dir / f"{Path(source.media).stem}_{source.tool}_{time_s:07.2f}s_{tag}.jpg"
        saved.append(str(save_image(path, drawn)))
    return {f"{source.media}|{source.tool}": saved}


def draw_key_frames(
    findings: list[Finding], focus: Focus, count: int, frames_dir: Path, deidentify: bool = False
) -> dict[str, list[str]]:
    """The SoVTP key frames (numbered boxes, landmarks, AU labels) the answer would send a vision model, drawn and
    saved for a front-end to show even when the model is text-only (the web page); paths per ``media|tool``."""
    return _key_frames(findings, focus, count, frames_dir, deidentify, True)


def _frame_at(media: str, time_s: float) -> np.ndarray:
    return next(iter(iter_frames(media, start_s=max(time_s - 1e-3, 0.0)))).image


def _fit(image: np.ndarray) -> np.ndarray:
    longer = max(image.shape[:2])
    if longer <= MAX_IMAGE_SIDE_PX:
        return image
    import cv2

    scale = MAX_IMAGE_SIDE_PX / longer
    return cv2.resize(
        image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )


def _data_url(path: str) -> str:
    from tools.media import load_image

    return image_data_url(load_image(path))


def _media_kind(findings: list[Finding]) -> str:
    suffixes = {Path(finding.media).suffix.lower() for finding in findings}
    return "an image" if suffixes and suffixes <= {".jpg", ".jpeg", ".png", ".bmp", ".webp"} else "a video"


def _person_details(person: dict[str, Any]) -> str:
    return ", ".join(f"{key} {_short(value)}" for key, value in person.items() if key != "person")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
