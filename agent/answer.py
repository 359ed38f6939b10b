"""The answer to one question: a label from the tools' evidence, the model's explanation, and the cited evidence.

The label is deterministic — it comes from the tools (the emotion measured, the number of faces, the name matched),
so it is right even when a small model's prose is not; the explanation is the model's. Every citation says which
tool, on which file, about which people (track numbers), when (seconds), with which action units, and which
annotated frames on disk show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agent.router import Focus
from agent.state import ToolRun
from tools.langchain_tools.types import Finding


@dataclass(frozen=True)
class Citation:
    """One piece of evidence an answer rests on."""

    tool: str
    media: str
    label: str | None
    summary: str
    tracks: list[int] = field(default_factory=list)
    times_s: list[float] = field(default_factory=list)
    action_units: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @classmethod
    def from_finding(cls, finding: Finding, frames: list[str] | None = None) -> Citation:
        tracks = sorted({mark.track_id for mark in finding.marks})
        times = sorted({round(mark.time_s, 2) for mark in finding.marks})
        units = [
            f"#{mark.track_id} {label}" for mark in finding.marks for label in mark.labels if label.startswith("AU")
        ]
        return cls(
            finding.tool,
            finding.media,
            finding.label,
            finding.summary,
            tracks,
            times,
            list(dict.fromkeys(units)),
            list(frames or []),
            list(finding.files),
        )


@dataclass(frozen=True)
class Answer:
    """What ``mien ask`` prints (``text``) or emits (``to_dict``).

    ``prompt`` names the reasoning template used (e.g. "sovtp-v1", "grounded-v1"); ``error`` says why the
    explanation is missing when the model failed (the label and evidence still stand). For grounded answers
    (``agent.explain``): ``method`` says whether the model's checked answer (``model``, ``model-retry``) or the
    evidence template (``template``) gave the prose, ``problems`` what the checker rejected, ``model_label`` the
    label the model wrote (the answer's ``label`` always comes from the tools).
    """

    question: str
    label: str | None
    explanation: str
    evidence: list[Citation]
    tools: list[ToolRun]
    prompt: str
    privacy: str
    error: str | None = None
    method: str | None = None
    problems: list[str] = field(default_factory=list)
    model_label: str | None = None

    def text(self) -> str:
        """The answer as plain text: label, explanation, then one line per piece of evidence."""
        lines = [f"Answer: {self.label}" if self.label else "Answer: (no tool gave a label)"]
        if self.explanation.strip():
            lines.append(self.explanation.strip())
        if self.error:
            lines.append(f"(no explanation: {self.error})")
        for citation in self.evidence:
            detail = f"[{citation.tool}] {citation.summary}"
            if citation.action_units:
                detail += "; AUs: " + ", ".join(citation.action_units[:6])
            lines.append(detail)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "label": self.label,
            "explanation": self.explanation,
            "evidence": [asdict(citation) for citation in self.evidence],
            "tools": [dict(run) for run in self.tools],
            "prompt": self.prompt,
            "privacy": self.privacy,
            "error": self.error,
            "method": self.method,
            "problems": list(self.problems),
            "model_label": self.model_label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(
            question=data["question"],
            label=data.get("label"),
            explanation=data.get("explanation", ""),
            evidence=[Citation(**citation) for citation in data.get("evidence", [])],
            tools=[ToolRun(**run) for run in data.get("tools", [])],  # type: ignore[typeddict-item]
            prompt=data.get("prompt", ""),
            privacy=data.get("privacy", "local"),
            error=data.get("error"),
            method=data.get("method"),
            problems=list(data.get("problems", [])),
            model_label=data.get("model_label"),
        )


def focused_person(finding: Finding, focus: Focus) -> dict[str, Any] | None:
    """The per-person fact entry the question is about (by number, else by side of the frame), if any."""
    people = [person for person in finding.facts.get("people", []) if isinstance(person, dict)]
    if focus.person is not None:
        return next((person for person in people if person.get("person") == focus.person), None)
    if focus.position is not None:
        return next((person for person in people if person.get("position") == focus.position), None)
    return None


def evidence_label(findings: list[Finding], focus: Focus) -> str | None:
    """The answer's label: the first finding with one (tools come in order of relevance), narrowed to the person
    the question names when the finding has per-person labels."""
    for finding in findings:
        if finding.label is None:
            continue
        person = focused_person(finding, focus)
        if person is not None and person.get("label"):
            return f"#{person['person']}: {person['label']}"
        return finding.label
    return None
