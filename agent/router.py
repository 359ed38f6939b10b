"""Planning without native tool calls: a semantic router over the tools' descriptions, and the question's focus.

Each tool states what it does and a few questions it answers (its LangChain metadata); a few composite intents
name several tools at once. The router embeds all of them once with the packaged MiniLM sentence embedder, embeds
the question, and picks the best-matching intent plus any within ``margin`` of it, if at least ``min_score``. The
arguments are filled from the media in play (a file the question names, else every file the tool can read). The
focus (a person number, a side of the frame, a time) is parsed from the question for the answer to use; tools
always analyse the whole file, so their evidence is cacheable whatever the follow-up asks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.tools import BaseTool

from agent.state import PromptStyle
from tools.langchain_tools.base import tool_examples, tool_media_kinds, tool_prompt

TextEmbed = Callable[[Sequence[str]], np.ndarray]
"""Texts to L2-normalised vectors, (n, dim) float32."""


@dataclass(frozen=True)
class Intent:
    """Something a user asks for: example phrasings, the tools that answer it, and the prompt its answer uses."""

    name: str
    examples: tuple[str, ...]
    tools: tuple[str, ...]
    style: PromptStyle = "plain"


# Asks that need more than one tool or a different prompt than the tool's own.
COMPOSITE_INTENTS: tuple[Intent, ...] = (
    Intent(
        "emotion_without_faces",
        (
            "Explain the emotion without looking at faces.",
            "How does she feel, judging only from what is said and how?",
            "Ignore facial expressions and tell me the mood from the voice and words.",
            "What emotion comes across in the speech, not the face?",
        ),
        ("transcribe_speech", "find_faces", "read_body_language"),
        "deemo",
    ),
    Intent(
        "feeling_and_why",
        (
            "Explain the reasons for her mood from her expression, her gestures and what she says.",
            "Why do you think he feels that way? Use his face, body language and words.",
            "What in his face, posture and speech shows how he feels?",
            "Why does she feel that way, and what shows it?",
            "How does the person feel, and why?",
        ),
        ("read_emotions", "read_body_language", "transcribe_speech"),
        "sovtp",
    ),
    Intent(
        "who_feels_what",
        ("Who is happy here?", "Which of these people looks sad, and who are they?"),
        ("identify_people", "read_emotions"),
        "sovtp",
    ),
)


@dataclass(frozen=True)
class Focus:
    """What part of the media a question is about: a person number, a side of the frame, a time in seconds."""

    person: int | None = None
    position: str | None = None
    time_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"person": self.person, "position": self.position, "time_s": self.time_s}


@dataclass(frozen=True)
class RoutePlan:
    """The router's decision: the best intent, its prompt style, the tool calls, and every intent's score."""

    intent: str | None
    style: PromptStyle
    tool_calls: list[dict[str, Any]]
    scores: dict[str, float] = field(default_factory=dict)


_PERSON = re.compile(r"(?:person|track|face|number|#)\s*(\d+)", re.IGNORECASE)
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2}(?:\.\d+)?)\b")
_SECONDS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b", re.IGNORECASE)
_SIDES = {"left": "left", "right": "right", "middle": "center", "center": "center", "centre": "center"}


def parse_focus(question: str) -> Focus:
    """The person number ("person 2", "#2"), side ("on the left") and time ("at 0:12", "12 s") a question names."""
    person_match = _PERSON.search(question)
    time_s: float | None = None
    if clock := _CLOCK.search(question):
        time_s = int(clock.group(1)) * 60 + float(clock.group(2))
    elif seconds := _SECONDS.search(question):
        time_s = float(seconds.group(1))
    words = re.findall(r"[a-z]+", question.lower())
    position = next((_SIDES[word] for word in words if word in _SIDES), None)
    return Focus(int(person_match.group(1)) if person_match else None, position, time_s)


class SemanticRouter:
    """Chooses tools for a question by sentence similarity to what each tool (or composite intent) answers."""

    def __init__(
        self,
        tools: Sequence[BaseTool],
        embed: TextEmbed,
        min_score: float = 0.35,
        margin: float = 0.06,
        composite: Sequence[Intent] = COMPOSITE_INTENTS,
    ) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.embed = embed
        self.min_score = min_score
        self.margin = margin
        self.intents = [
            Intent(tool.name, (tool.description, *tool_examples(tool)), (tool.name,), _style(tool_prompt(tool)))
            for tool in tools
        ]
        self.intents += [intent for intent in composite if all(name in self.tools for name in intent.tools)]
        phrases = [phrase for intent in self.intents for phrase in intent.examples]
        self._owner = np.array([i for i, intent in enumerate(self.intents) for _ in intent.examples])
        self._phrase_vectors = np.asarray(embed(phrases), dtype=np.float32) if phrases else np.zeros((0, 1))

    def scores(self, question: str) -> dict[str, float]:
        """Each intent's score: the best cosine similarity between the question and one of its phrasings."""
        if not self.intents:
            return {}
        query = np.asarray(self.embed([question]), dtype=np.float32)[0]
        similarity = self._phrase_vectors @ query
        best = np.full(len(self.intents), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, similarity)
        return {intent.name: round(float(score), 4) for intent, score in zip(self.intents, best, strict=True)}

    def plan(self, question: str, media: Sequence[str], media_kinds: dict[str, set[str]]) -> RoutePlan:
        """Tool calls for ``question`` over ``media``.

        ``media_kinds`` maps each path to what it holds: {"image"}, {"video"}, {"video", "audio"} or {"audio"}.
        """
        scores = self.scores(question)
        ranked = sorted(self.intents, key=lambda intent: -scores[intent.name])
        if not ranked or scores[ranked[0].name] < self.min_score:
            return RoutePlan(None, "plain", [], scores)
        floor = max(self.min_score, scores[ranked[0].name] - self.margin)
        chosen = [intent for intent in ranked if scores[intent.name] >= floor]
        targets = _named_media(question, media) or list(media)
        calls: list[dict[str, Any]] = []
        for name in dict.fromkeys(tool for intent in chosen for tool in intent.tools):
            kinds = tool_media_kinds(self.tools[name])
            for path in targets:
                if media_kinds.get(path, set()) & set(kinds):
                    calls.append(_tool_call(name, {"media": path}))
        return RoutePlan(ranked[0].name, ranked[0].style, calls, scores)


def _named_media(question: str, media: Sequence[str]) -> list[str]:
    lowered = question.lower()
    return [path for path in media if Path(path).name.lower() in lowered or Path(path).stem.lower() in lowered]


def _style(prompt: str) -> PromptStyle:
    return "sovtp" if prompt == "sovtp" else "deemo" if prompt == "deemo" else "plain"


def _tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}
