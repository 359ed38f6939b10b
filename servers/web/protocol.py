"""The web page's JSON shapes: uploaded media, the perception overview of a file, threads and their turns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class MediaItem(BaseModel):
    """One uploaded (or opened) file: ``id`` names it in every later request, ``url`` plays it."""

    id: str
    name: str
    kind: str
    duration_s: float
    width: int
    height: int
    has_audio: bool
    size_bytes: int
    url: str


class OpenRequest(BaseModel):
    """Open a file that is already in the data folder, by its path."""

    path: str = Field(description="Path of a file inside the data folder (MIEN_HOME).")


class AskRequest(BaseModel):
    """One question about one uploaded file in one thread (a new thread when ``thread_id`` is null)."""

    media_id: str
    question: str = Field(max_length=4000)
    thread_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{12}$")


class Segment(BaseModel):
    """A transcript segment; the page makes ``start_s`` a link that seeks the video."""

    start_s: float
    end_s: float
    text: str


class Interval(BaseModel):
    """A spotted micro- or macro-expression (labels are estimates from AU geometry at the apex)."""

    person: int
    kind: str
    onset_s: float
    apex_s: float
    offset_s: float
    label: str | None
    action_units: list[str]


class Identity(BaseModel):
    """One person (track) and the gallery's name for them, or "unknown"."""

    person: int
    position: str | None
    name: str
    score: float


class Overview(BaseModel):
    """What perception found in one file, shown beside the video: each part says what it is, or why it is empty."""

    media_id: str
    timeline_url: str | None
    emotion_model: str | None
    au_source: str | None
    transcript: list[Segment]
    transcript_note: str | None
    intervals: list[Interval]
    spotting_note: str | None
    identities: list[Identity]
    identity_note: str | None
    seconds: dict[str, float]


class ToolTiming(BaseModel):
    """A tool the agent ran in a turn and how long it took (``cached``: the evidence cache answered)."""

    tool: str
    seconds: float
    cached: bool
    error: str | None


class CitedFact(BaseModel):
    """A numbered fact the answer cites ("F3"), as the model was given it (it says what kind of evidence it is)."""

    id: str
    text: str


class Turn(BaseModel):
    """One question and its answer, as the page shows it (also what a resumed thread re-renders)."""

    question: str
    text: str
    label: str | None
    explanation: str
    tools: list[ToolTiming]
    frames: list[str] = Field(description="URLs of the annotated key frames (numbered boxes, AU labels).")
    evidence: list[dict[str, Any]]
    facts: list[CitedFact] = Field(default_factory=list)
    prompt: str
    error: str | None


class ThreadRecord(BaseModel):
    """A conversation the page started: its file and its turns."""

    thread_id: str
    media_id: str
    media_name: str
    title: str
    updated_s: float
    turns: list[Turn] = Field(default_factory=list)


class ThreadSummary(BaseModel):
    thread_id: str
    media_id: str
    media_name: str
    title: str
    updated_s: float
    turns: int


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
