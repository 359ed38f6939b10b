"""Evidence narrowed to the one person a question is about ("the person on the left", "person 2").

Tools analyse the whole file (so their results are cacheable whatever the follow-up asks); the answer to a question
about one person must rest on that person's evidence only: their emotion, their body cues, the words they said.
Each finding keeps that person's entry in ``people``, their transcript segments (those attributed to them by
``tools.speech.speaker``), and their marks; its label and summary are rewritten from what is left.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agent.router import Focus
from tools.langchain_tools.types import Finding


def focus_person(findings: list[Finding], focus: Focus) -> int | None:
    """The track number the question means: its number, else the person at the named side in any finding."""
    if focus.person is not None:
        return focus.person
    if focus.position is None:
        return None
    for finding in findings:
        for person in finding.facts.get("people", []):
            if isinstance(person, dict) and person.get("position") == focus.position and "person" in person:
                return int(person["person"])
    return None


def narrow_to_focus(findings: list[Finding], focus: Focus) -> list[Finding]:
    """``findings`` about the focused person only; unchanged when the question names nobody findable."""
    number = focus_person(findings, focus)
    if number is None:
        return findings
    return [_narrowed(finding, number) for finding in findings]


def _narrowed(finding: Finding, number: int) -> Finding:
    facts = dict(finding.facts)
    people = [p for p in facts.get("people", []) if isinstance(p, dict) and p.get("person") == number]
    attributed = any(isinstance(s, dict) and "person" in s for s in facts.get("segments", []))
    if "people" not in facts and not attributed:
        return finding  # nothing per person in it (e.g. a count, a written file)
    facts["people"] = people
    label, summary = finding.label, finding.summary
    if attributed:
        segments = [s for s in facts["segments"] if s.get("person") == number]
        facts["segments"] = segments
        facts["text"] = " ".join(str(s["text"]) for s in segments).strip()
        label = facts["text"] or None
        summary = (
            f'#{number} said ({len(segments)} segment(s)): "{facts["text"]}"'
            if segments
            else f"#{number} said nothing (no speech attributed to this person)"
        )
    elif people:
        person = people[0]
        # A label naming several people ("#1 Happiness; #2 Fear") is no longer this finding's answer.
        label = str(person["label"]) if person.get("label") else None if "#" in (label or "") else label
        where = f" ({person['position']})" if person.get("position") else ""
        summary = f"#{number}{where}: {_details(person)}"
    else:
        label, summary = None, f"#{number} is not in this {finding.tool} result"
    marks = [mark for mark in finding.marks if mark.track_id == number]
    return replace(finding, label=label, summary=summary, facts=facts, marks=marks)


def _details(person: dict[str, Any]) -> str:
    parts = []
    for key, value in person.items():
        if key in ("person", "position"):
            continue
        shown = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key.replace('_', ' ')} {shown}")
    return ", ".join(parts)
