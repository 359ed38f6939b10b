"""What a tool adapter hands the agent: a compact ``Finding`` for the model plus the marks SoVTP draws on frames.

A LangChain tool made by this package answers with ``(content, artifact)``: ``content`` is the compact JSON the
model reads (``Finding.content()``), ``artifact`` is ``Finding.to_dict()`` — everything the agent keeps as cited
evidence, including face marks too large to send as text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FaceMark:
    """One face on one frame, as a visual prompt draws it.

    ``box`` is [x0, y0, x1, y1] in pixels of the full frame; ``points`` are (x, y) landmark pixels (a few dozen,
    not the whole mesh); ``labels`` are short strings written beside the box (e.g. "AU12 lip corner puller 0.8").
    """

    track_id: int
    time_s: float
    box: list[float]
    points: list[list[float]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaceMark:
        return cls(
            track_id=int(data["track_id"]),
            time_s=float(data["time_s"]),
            box=[float(v) for v in data["box"]],
            points=[[float(x), float(y)] for x, y in data.get("points", [])],
            labels=[str(label) for label in data.get("labels", [])],
        )


@dataclass(frozen=True)
class Finding:
    """The result of one tool on one media file.

    ``label`` is the tool's deterministic answer in a few words ("Happiness", "6 people", "Eileen Collins") or
    None when it has none; ``summary`` one sentence; ``facts`` the compact JSON-able details the model may read;
    ``marks`` the faces a visual prompt draws (never sent as text); ``files`` paths the tool wrote (e.g. a blurred
    clip).
    """

    tool: str
    media: str
    label: str | None
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)
    marks: list[FaceMark] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def content(self) -> str:
        """The text the model reads in the tool-result message: summary and facts, no marks."""
        payload: dict[str, Any] = {"summary": self.summary}
        if self.label is not None:
            payload["label"] = self.label
        payload.update(self.facts)
        if self.files:
            payload["files"] = self.files
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "media": self.media,
            "label": self.label,
            "summary": self.summary,
            "facts": self.facts,
            "marks": [mark.to_dict() for mark in self.marks],
            "files": list(self.files),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            tool=str(data["tool"]),
            media=str(data["media"]),
            label=data.get("label"),
            summary=str(data.get("summary", "")),
            facts=dict(data.get("facts", {})),
            marks=[FaceMark.from_dict(mark) for mark in data.get("marks", [])],
            files=[str(path) for path in data.get("files", [])],
        )
