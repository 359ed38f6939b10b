"""The typed records of a batch run: what each perception tool found in one file, and one result per file.

A batch over 10,000 videos is read back with pandas, DuckDB or Ray Data, so a result is stored as one flat row:
scalar columns for what people filter on (path, status, people, emotion, liveness) and one JSON column per tool
for the rest. ``FileResult.to_row`` / ``FileResult.from_row`` are the only places that know that layout; inside
Python the record stays typed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

BatchTool = Literal["faces", "identities", "emotions", "transcripts", "spotting", "liveness"]
BATCH_TOOLS: tuple[BatchTool, ...] = get_args(BatchTool)
DEFAULT_TOOLS: tuple[BatchTool, ...] = ("faces", "emotions")
Status = Literal["ok", "partial", "error"]
"""ok: every asked tool ran (or did not apply); partial: some failed; error: the file could not be used at all."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrackSpanSummary(_Record):
    """One person (face track) as the face pipeline found it."""

    track_id: int
    start_s: float
    end_s: float
    frames: int
    name: str | None = None
    score: float | None = None


class FacesSummary(_Record):
    """``tools.faces.analyze_file``: people (tracks) and how many frames were sampled."""

    people: int
    frames_analysed: int
    detections: int
    embedder: str
    tracks: list[TrackSpanSummary] = Field(default_factory=list)


class IdentitiesSummary(_Record):
    """``tools.recognition.identify_people`` against one gallery: the name (or None) per track."""

    gallery: str
    named: int
    basis: str = "nearest enrolled template within the embedder's match threshold (a similarity, not proof)"
    tracks: list[TrackSpanSummary] = Field(default_factory=list)


class EmotionTrackSummary(_Record):
    """One person's expression over the file: the label with the highest mean probability, and that mean."""

    track_id: int
    top_label: str | None
    top_probability: float | None
    frames: int


class EmotionsSummary(_Record):
    """``tools.expression.analyze_emotions``: model estimates per track (an estimate, not a ground truth)."""

    model: str
    au_source: str
    tracks: list[EmotionTrackSummary] = Field(default_factory=list)
    basis: str = "expression-model estimates of the face's appearance, averaged per track; not felt emotion"


class TranscriptSummary(_Record):
    """``tools.speech.transcribe``: the text, its language and size; ``note`` says why a transcript is empty."""

    model: str
    language: str | None
    text: str
    words: int
    speech_regions: int
    note: str | None = None


class IntervalSummary(_Record):
    """One spotted expression interval; ``label`` comes from AU estimates at the apex (a heuristic reading)."""

    track_id: int
    kind: str
    onset_s: float
    apex_s: float
    offset_s: float
    label: str | None


class SpottingSummary(_Record):
    """``tools.spotting.spot_video``: micro/macro-expression intervals (signal heuristics, see docs/spotting.md)."""

    method: str
    frames: int
    micro: int
    macro: int
    intervals: list[IntervalSummary] = Field(default_factory=list)
    basis: str = "heuristic: mesh motion past per-region thresholds; labels read from AU estimates at the apex"


class LivenessTrackSummary(_Record):
    """One person's liveness verdict with the reasons behind it."""

    track_id: int
    verdict: str
    attack_probability: float | None
    reasons: list[str] = Field(default_factory=list)


class LivenessSummary(_Record):
    """``tools.attack.assess_liveness``: the file's verdict (attack model plus pulse/blink heuristics)."""

    verdict: str
    model: str
    tracks: list[LivenessTrackSummary] = Field(default_factory=list)
    basis: str = "attack-model estimate combined with rPPG pulse and blink heuristics (docs/attack.md)"


class ToolProblem(_Record):
    """A tool that failed on this file (``error``) or does not apply to it (``skipped``, e.g. no audio track)."""

    tool: str
    kind: Literal["error", "skipped"]
    error_type: str
    message: str


class FileResult(_Record):
    """Everything a batch run learned about one file. ``key`` identifies (file contents as of size/mtime, tools):
    a later run with the same key finds this result and does not redo the file."""

    path: str
    key: str
    tools: tuple[BatchTool, ...]
    status: Status
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""
    finished_at: float = 0.0
    kind: str | None = None
    duration_s: float | None = None
    faces: FacesSummary | None = None
    identities: IdentitiesSummary | None = None
    emotions: EmotionsSummary | None = None
    transcripts: TranscriptSummary | None = None
    spotting: SpottingSummary | None = None
    liveness: LivenessSummary | None = None
    problems: list[ToolProblem] = Field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        """The flat row stored in Parquet/JSONL (see ``ROW_COLUMNS``)."""
        row: dict[str, Any] = {
            "path": self.path,
            "key": self.key,
            "tools": ",".join(self.tools),
            "status": self.status,
            "error": self.error,
            "seconds": float(self.seconds),
            "worker": self.worker,
            "finished_at": float(self.finished_at),
            "kind": self.kind,
            "duration_s": self.duration_s,
            "people": None if self.faces is None else self.faces.people,
            "emotion": _file_emotion(self.emotions),
            "verdict": None if self.liveness is None else self.liveness.verdict,
            "problems": json.dumps([p.model_dump() for p in self.problems]),
        }
        for tool in BATCH_TOOLS:
            summary: BaseModel | None = getattr(self, tool)
            row[tool] = None if summary is None else summary.model_dump_json()
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FileResult:
        """The record back from a stored row (the inverse of ``to_row``)."""
        fields: dict[str, Any] = {name: row.get(name) for name in _SCALARS}
        fields["tools"] = tuple(t for t in str(row.get("tools") or "").split(",") if t)
        fields["problems"] = _decoded(row.get("problems")) or []
        for tool in BATCH_TOOLS:
            fields[tool] = _decoded(row.get(tool))
        return cls.model_validate({k: v for k, v in fields.items() if v is not None})


_SCALARS = ("path", "key", "status", "error", "seconds", "worker", "finished_at", "kind", "duration_s")
ROW_COLUMNS: dict[str, str] = {
    "path": "string",
    "key": "string",
    "tools": "string",
    "status": "string",
    "error": "string",
    "seconds": "float64",
    "worker": "string",
    "finished_at": "float64",
    "kind": "string",
    "duration_s": "float64",
    "people": "int64",
    "emotion": "string",
    "verdict": "string",
    "problems": "string",
    **{tool: "string" for tool in BATCH_TOOLS},
}
"""Column name -> Arrow type of a stored row; every part file has exactly these columns, in this order."""


def _decoded(value: Any) -> Any:
    """A nested column as stored: JSON text in Parquet, already an object in JSONL."""
    return json.loads(value) if isinstance(value, str) else value


def nested_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its JSON columns as objects (for JSONL, where nesting is free and easier to read)."""
    return {k: (_decoded(v) if k == "problems" or k in BATCH_TOOLS else v) for k, v in row.items()}


def _file_emotion(emotions: EmotionsSummary | None) -> str | None:
    """The top label of the most confident track (for filtering; per-track labels are in the JSON column)."""
    if emotions is None:
        return None
    scored = [t for t in emotions.tracks if t.top_probability is not None]
    return max(scored, key=lambda t: t.top_probability or 0.0).top_label if scored else None


def result_key(path: Path, tools: tuple[BatchTool, ...]) -> str:
    """What makes a finished result reusable: the file's resolved path, size and modification time, and the tools.
    A file edited since (new size or mtime) or asked for with other tools is analysed again."""
    resolved = path.expanduser().resolve()
    try:
        stat = resolved.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        stamp = "missing"
    text = f"{resolved}|{stamp}|{','.join(sorted(tools))}"
    return hashlib.sha1(text.encode()).hexdigest()[:20]


class BatchReport(_Record):
    """What one ``run_batch`` call did: files found, skipped as already done, analysed now, and their outcomes."""

    out: str
    format: str
    files: int
    already_done: int
    analysed: int
    ok: int
    partial: int
    errors: int
    interrupted: bool
    seconds: float
    workers: int
    ray_address: str | None
    parts_written: int
