"""What an evaluation case says: the media, the conversation turns, and what each turn's answer must show.

A suite is a list of ``Case``s; each becomes one inspect ``Sample`` (the case travels in the sample's metadata as
JSON). Expectations are per turn, each kind optional, so one case can check tools, a label and a number at once;
a scorer whose kind a case does not use leaves that sample unscored (inspect counts it as such).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

LabelKind = Literal["basic", "compound", "text", "count", "liveness"]
PromptStyleName = Literal["sovtp", "deemo", "plain"]


class MediaSpec(BaseModel):
    """A file to ask about: a ``path`` as given, or a ``generator`` (see ``evals.inspect.media``) with its options,
    which composes the file from real photos, espeak-ng speech and mesh warps so that suites run anywhere."""

    path: str | None = None
    generator: str | None = None
    options: dict[str, str | float | int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> MediaSpec:
        if (self.path is None) == (self.generator is None):
            raise ValueError("a media spec needs exactly one of path or generator")
        return self

    def key(self) -> str:
        """A stable name for the file (generated media are cached under it)."""
        if self.path is not None:
            return self.path
        options = "-".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.generator}{'-' + options if options else ''}"


class NumberExpect(BaseModel):
    """A number a tool's finding must hold: ``facts[key]`` of ``tool``'s finding (dotted path; ``people.0.score``),
    within ``tolerance``."""

    tool: str
    key: str
    value: float
    tolerance: float = 0.0


class IntervalExpect(BaseModel):
    """An expression interval (seconds) the spotting tool should find; scored with the MEGC IoU >= 0.5 rule."""

    onset_s: float
    offset_s: float
    label: str | None = None
    kind: Literal["micro", "macro"] | None = None


class Expect(BaseModel):
    """What one turn's answer must show. Every field is optional.

    ``tools``: must run; ``not_tools``: must not run. ``label``: the answer's label names this (an emotion class,
    a count, a name, "live"/"attack"), compared as ``label_kind``. ``numbers``: facts in the evidence.
    ``phrases`` / ``not_phrases``: in the answer text or not (case-insensitive). ``identities``: names the
    identification must give. ``intervals``: spotting truth. ``style``: the reasoning prompt the agent must choose.
    ``rubric``: the reference explanation (EMER-style clues and label) the explanation is scored against.
    ``clues``: the reference clues, one per item, for clue overlap. ``grounded``: whether every checkable claim
    must be in the evidence (on by default).
    """

    tools: list[str] = Field(default_factory=list)
    not_tools: list[str] = Field(default_factory=list)
    label: str | None = None
    label_kind: LabelKind = "text"
    numbers: list[NumberExpect] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    not_phrases: list[str] = Field(default_factory=list)
    identities: list[str] = Field(default_factory=list)
    intervals: list[IntervalExpect] | None = None
    style: PromptStyleName | None = None
    rubric: str | None = None
    clues: list[str] = Field(default_factory=list)
    grounded: bool = True


class Turn(BaseModel):
    """One question of the conversation and its expectations."""

    question: str
    expect: Expect = Field(default_factory=Expect)


class Case(BaseModel):
    """One sample: an id, the media in play, the turns (asked in one thread, in order), free tags, and the people
    to enroll in the gallery first (name -> photos), so identification has someone to find."""

    id: str
    media: list[MediaSpec]
    turns: list[Turn]
    privacy: Literal["local", "deidentified"] | None = None
    tags: list[str] = Field(default_factory=list)
    enroll: dict[str, list[MediaSpec]] = Field(default_factory=dict)  # gallery names enrolled before the turns

    @model_validator(mode="after")
    def _has_turns(self) -> Case:
        if not self.turns:
            raise ValueError(f"case {self.id!r} has no turns")
        if not self.media:
            raise ValueError(f"case {self.id!r} has no media")
        return self


class Suite(BaseModel):
    """A named list of cases; ``description`` says what it covers."""

    name: str
    description: str
    cases: list[Case]


class TurnRecord(BaseModel):
    """What the agent did on one turn, as the solver records it (in the sample's store, so the log keeps it).

    ``findings``: the full ``Finding`` dicts this turn's answer rested on (the tools' evidence). ``style``: the
    reasoning prompt the agent chose. ``seconds``: wall time of the turn.
    """

    question: str
    answer: dict[str, Any]
    findings: list[dict[str, Any]] = Field(default_factory=list)
    style: str | None = None
    seconds: float = 0.0
    error: str | None = None
