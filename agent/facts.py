"""The tools' findings as numbered facts (F1, F2, ...), each saying what kind of evidence it is.

The model is given these lines, not raw tool JSON, and cites them by id; the answer's prose quotes them verbatim,
so every number in it comes from a tool. Each fact says what it is: AU values are estimates from face-mesh
geometry (not a trained AU model), a voice cue is a prosody heuristic, and speech is attributed to a person only
where the evidence says who spoke. The rendering is generic over the per-person fields a tool reports (``people``
entries), so fields other tools add (AU reliability flags, other people's emotions, body cues, speaker turns)
become facts without changes here; ``DESCRIPTIONS`` only adds a word on what a known field is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.langchain_tools.types import Finding

MAX_FACTS = 16  # a lean prompt: prompt processing is the latency on a CPU

# What a per-person field is, said beside its value (fields not listed are shown as "key: value").
DESCRIPTIONS: dict[str, str] = {
    "head_yaw_deg": "head yaw in degrees (pose estimate)",
    "speech_s": "seconds of speech attributed by the speaker-attribution heuristic",
    "said": "speech attributed by the speaker-attribution heuristic",
    "body_cues": "body cue (pose-landmark heuristic)",
    "hand_energy": "hand movement (pose-landmark heuristic)",
    "action_units_not_measurable": "action units not measured, with the reason (no number is given for them)",
    "others_in_same_frames": "another person's expression in the same frames (expression classifier)",
}
_SKIPPED_KEYS = {"person", "position", "label", "probability", "action_units", "box", "track"}


@dataclass(frozen=True)
class Fact:
    """One citable piece of evidence. ``person`` is the person number it is about (None: the whole file)."""

    id: str
    text: str
    kind: str
    tool: str
    person: int | None = None

    def line(self) -> str:
        return f"{self.id}: {self.text}"


def _person_name(person: dict[str, Any]) -> str:
    where = f" ({person['position']})" if person.get("position") else ""
    return f"person {person['person']}{where}"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _speaker(segment: dict[str, Any]) -> str:
    who = segment.get("person", segment.get("speaker"))
    if isinstance(who, int) or (isinstance(who, str) and who.isdigit()):
        return f"spoken by person {who} (speaker-attribution heuristic)"
    return "speaker not identified"


def _transcript_facts(finding: Finding) -> list[tuple[str, str, int | None]]:
    items: list[tuple[str, str, int | None]] = []
    for segment in finding.facts.get("segments", []):
        if not isinstance(segment, dict) or not str(segment.get("text", "")).strip():
            continue
        span = f"{float(segment['from_s']):.1f}-{float(segment['to_s']):.1f} s"
        who = segment.get("person", segment.get("speaker"))
        person = int(who) if isinstance(who, int) or (isinstance(who, str) and who.isdigit()) else None
        items.append(("transcript", f'speech {span}: "{segment["text"].strip()}" ({_speaker(segment)})', person))
        prosody = {k: v for k, v in (segment.get("prosody") or {}).items() if v is not None}
        if prosody:
            cues = ", ".join(f"{key} {_value(value)}" for key, value in prosody.items())
            items.append(("prosody", f"voice cue {span}: {cues} (prosody heuristic, not an emotion model)", person))
    return items


def _person_facts(finding: Finding, person: dict[str, Any], with_faces: bool) -> list[tuple[str, str, int | None]]:
    number = int(person["person"])
    who = _person_name(person)
    items: list[tuple[str, str, int | None]] = []
    facial = finding.tool == "read_emotions"
    if facial and not with_faces:
        return items
    if person.get("label"):
        probability = f" {_value(person['probability'])}" if person.get("probability") is not None else ""
        source = "expression classifier probability" if facial else f"{finding.tool} result"
        items.append(("label", f"{who}: {person['label']}{probability} ({source})", number))
    for unit in person.get("action_units", []) or []:
        items.append(("action_unit", f"{who}: {unit} (mesh-geometry estimate)", number))
    for key, value in person.items():
        if key in _SKIPPED_KEYS or value in (None, "", [], {}):
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            for item in value[:4]:
                items.append((key, f"{who}: {item} ({DESCRIPTIONS.get(key, key.replace('_', ' '))})", number))
            continue
        described = DESCRIPTIONS.get(key)
        text = f"{who}: {described} {_value(value)}" if described else f"{who}: {key.replace('_', ' ')} {_value(value)}"
        items.append((key, text, number))
    return items


def findings_facts(findings: list[Finding], with_faces: bool = True, limit: int = MAX_FACTS) -> list[Fact]:
    """Numbered facts of every finding: its summary, then per person, then transcript and voice cues.

    ``with_faces`` False leaves out facial-expression evidence (the user asked to judge without faces)."""
    items: list[tuple[str, str, str, int | None]] = []
    for finding in findings:
        if finding.tool == "read_emotions" and not with_faces:
            continue
        items.append(
            ("summary", finding.tool, f"{finding.tool} on {Path(finding.media).name}: {finding.summary}", None)
        )
        for person in finding.facts.get("people", []):
            if isinstance(person, dict) and "person" in person:
                items += [(kind, finding.tool, text, n) for kind, text, n in _person_facts(finding, person, with_faces)]
        if finding.tool == "transcribe_speech":
            items += [(kind, finding.tool, text, n) for kind, text, n in _transcript_facts(finding)]
    return [
        Fact(id=f"F{index}", text=text, kind=kind, tool=tool, person=person)
        for index, (kind, tool, text, person) in enumerate(items[:limit], start=1)
    ]


def facts_text(facts: list[Fact]) -> str:
    return "\n".join(fact.line() for fact in facts) or "(no tool was run for this question)"
