"""Grounded explanations: the model fills a JSON structure, the prose is rendered from it and checked.

The model gets the numbered facts (``agent.facts``) and the question, and answers under a JSON schema — decoded
under a grammar on llama.cpp (``response_format``), guided decoding on vLLM — with a label, reasons that each
cite one fact id with a few words on what it shows, and a one-sentence summary. The prose is rendered from that:
the cited facts verbatim (so every measurement shown comes from a tool), the model's words beside them. Then the
checker (``agent.grounding``) reads the model's own words; on a problem the model is asked once more with the
problems named, and if that fails too the explanation is a template rendered from the evidence alone. Which of
the three it was is part of the answer (``method``), as are the problems found.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.facts import Fact, facts_text
from agent.grounding import Evidence, check_text, labels_agree, sentences
from agent.untrusted import MEDIA_TEXT_RULE, fence_facts

log = logging.getLogger(__name__)

GROUNDED_VERSION = "grounded-v1"
STRUCTURED_TAG = "mien-structured"  # the session does not stream these tokens (they are JSON, not prose)

# Constant across questions, so the server's cached prompt prefix covers it. The worked examples are real-looking
# ones: small models copy a placeholder like "the answer in a few words" literally.
SYSTEM_GROUNDED = (
    "You are Mien. You explain what perception tools measured in images, videos and audio. You are given numbered "
    "facts (F1, F2, ...) and a question. Reply in JSON: the label (the answer in a few words), the ids of the "
    "one to four facts that support it, and a one-sentence summary that answers the question. "
    "Use only the facts: do not add numbers, names, times, emotions or quotes that are not in them. "
    "Call people 'person 1', 'person 2'. " + MEDIA_TEXT_RULE
)
EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "Facts:\nF1: read_emotions on street.jpg: 1 person: Surprise\n"
        "F2: person 1 (left): Surprise 0.81 (expression classifier probability)\n"
        "F3: person 1 (left): AU26 jaw drop 1.9 (mesh-geometry estimate)\n"
        "\nQuestion: How does he feel?",
        {"label": "Surprise", "evidence": ["F2", "F3"], "summary": "Person 1 looks surprised, with the jaw dropped."},
    ),
    (
        "Facts:\nF1: find_faces on team.jpg: 3 people seen in the image: #1 left, #2 center, #3 right\n"
        "F2: person 1 (left): head yaw in degrees (pose estimate) 12\n"
        "\nQuestion: How many people are there?",
        {"label": "3 people", "evidence": ["F1"], "summary": "There are 3 people in the image."},
    ),
)
_USER = "Facts:\n{facts}\n\nQuestion: {question}"
_FACT_MARK = re.compile(r"\[F\d+\]")
_NAMED_PERSON = re.compile(r"(?:\bperson|#)\s*(\d+)", re.IGNORECASE)
_RETRY = (
    "Your answer said things the facts do not hold: {problems}. Answer again in the same JSON, using only the facts."
)


@dataclass(frozen=True)
class StructuredAnswer:
    """What the model filled in: its label, the ids of the facts it cites, and a summary."""

    label: str
    evidence: list[str]
    summary: str


@dataclass
class Explanation:
    """The prose, how it was made (``model``, ``model-retry`` or ``template``), and what the checker found."""

    text: str
    method: str
    model_label: str | None = None
    problems: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    first_token_s: float | None = None


def answer_schema(facts: Sequence[Fact]) -> dict[str, Any]:
    """The JSON schema the answer is decoded under: cited ids restricted to the facts given."""
    ids = [fact.id for fact in facts] or ["F0"]
    return {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "evidence": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"enum": ids}},
            "summary": {"type": "string"},
        },
        "required": ["label", "evidence", "summary"],
    }


def response_format(facts: Sequence[Fact]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "mien_answer", "schema": answer_schema(facts)}}


def parse_structured(text: str, facts: Sequence[Fact]) -> StructuredAnswer | None:
    """The answer from the model's JSON (the first object in the text; fences and chatter around it ignored).
    Unknown fact ids are dropped. None when there is no usable object."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        payload, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    known = {fact.id for fact in facts}
    cited = payload.get("evidence", payload.get("reasons", [])) or []
    ids = [str(item.get("fact") if isinstance(item, dict) else item) for item in cited if isinstance(cited, list)]
    evidence = list(dict.fromkeys(fact_id for fact_id in ids if fact_id in known))
    return StructuredAnswer(str(payload.get("label", "")).strip(), evidence, str(payload.get("summary", "")).strip())


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _grouped(facts: Sequence[Fact]) -> list[str]:
    """Cited facts as sentences, one per person (in order of first mention), then those about the whole file."""
    people: dict[int | None, list[Fact]] = {}
    for fact in facts:
        people.setdefault(fact.person, []).append(fact)
    lines: list[str] = []
    for person, items in people.items():
        if person is None:
            lines += [f"{_sentence(fact.text)} [{fact.id}]" for fact in items]
            continue
        prefix = items[0].text.split(":", 1)[0]  # "person 1 (left)"
        details = "; ".join(f"{fact.text.split(':', 1)[-1].strip()} [{fact.id}]" for fact in items)
        lines.append(f"{_sentence(prefix)[:-1]}: {details}.")
    return lines


def _own_summary(summary: str) -> str:
    """The summary without the fact lines a small model sometimes copies into it ("… [F2]"): the cited facts
    follow verbatim anyway, and copied ones would show twice."""
    return " ".join(_sentence(part) for part in sentences(summary) if not _FACT_MARK.search(part))


def render(answer: StructuredAnswer, facts: Sequence[Fact]) -> str:
    """Prose from the structure: the model's summary, then the facts it cites, verbatim, grouped by person."""
    by_id = {fact.id: fact for fact in facts}
    summary = _own_summary(answer.summary)
    lines = [summary] if summary else []
    lines += _grouped([by_id[fact_id] for fact_id in answer.evidence])
    return " ".join(line for line in lines if line)


def template(label: str | None, facts: Sequence[Fact], question: str = "") -> str:
    """An explanation from the evidence alone, for when the model's answer cannot be used: the label, and the
    facts that bear on it (those about the people the question names first; then per-person labels and AUs,
    speech and voice, summaries)."""
    order = {"label": 0, "action_unit": 1, "transcript": 2, "prosody": 3}
    named = {int(n) for n in _NAMED_PERSON.findall(question)}
    chosen = sorted(facts, key=lambda fact: (fact.person not in named, order.get(fact.kind, 4)))[:5]
    opening = f"The tools' answer is {label}." if label else "No tool gave an answer to this question."
    return " ".join([opening, *_grouped(chosen)])


class _FirstToken(BaseCallbackHandler):
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        if self.first is None and token:
            self.first = time.perf_counter() - self.started


def explain(
    chat: BaseChatModel,
    question: str,
    facts: Sequence[Fact],
    evidence: Evidence,
    tool_label: str | None,
    *,
    history: Sequence[BaseMessage] = (),
    guard: Callable[[list[BaseMessage]], list[BaseMessage]] = list,
    retries: int = 1,
    images: Sequence[dict[str, Any]] = (),
) -> Explanation:
    """Ask for the structured answer, check it, retry once with the problems named, else use the template.

    Errors of the endpoint propagate (the caller reports them); a reply that is not the JSON asked for counts as
    a failed check. ``images`` (OpenAI ``image_url`` parts: the SoVTP key frames, for a vision endpoint) go with
    the question, so a vision model sees the numbered faces its facts are about."""
    messages: list[BaseMessage] = [
        SystemMessage(SYSTEM_GROUNDED),
        *(
            message
            for user, reply in EXAMPLES
            for message in (HumanMessage(user), AIMessage(json.dumps(reply, ensure_ascii=False)))
        ),
        *history,
        _question_message(_USER.format(facts=facts_text(fence_facts(facts)), question=question), images),
    ]
    constrained = chat.bind(response_format=response_format(facts)).with_config(tags=[STRUCTURED_TAG])
    bound: Any = constrained
    raw: list[str] = []
    problems: list[str] = []
    first_token_s: float | None = None
    parsed: StructuredAnswer | None = None
    for attempt in range(retries + 1):
        timer = _FirstToken()
        try:
            try:
                reply = bound.invoke(guard(messages), config={"callbacks": [timer]})
            except openai.BadRequestError as refused:  # a server without constrained decoding: ask in words alone
                if bound is not constrained:
                    raise
                log.info("the endpoint refused response_format (%s); asking for the JSON without it", refused)
                bound = chat.with_config(tags=[STRUCTURED_TAG])
                reply = bound.invoke(guard(messages), config={"callbacks": [timer]})
        except openai.LengthFinishReasonError:
            # The JSON was cut off at the answer's token limit: a failed check like any other, not an error.
            first_token_s = first_token_s if first_token_s is not None else timer.first
            problems = ["the reply was cut off at the token limit before the JSON was complete"]
            log.info("structured answer cut off (attempt %d)", attempt + 1)
            continue
        first_token_s = first_token_s if first_token_s is not None else timer.first
        text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        raw.append(text)
        parsed = parse_structured(text, facts)
        problems = _problems(parsed, evidence, tool_label)
        if not problems and parsed is not None:
            method = "model" if attempt == 0 else "model-retry"
            return Explanation(render(parsed, facts), method, parsed.label, [], raw, first_token_s)
        log.info("structured answer rejected (attempt %d): %s", attempt + 1, "; ".join(problems))
        messages = [*messages, AIMessage(content=text), HumanMessage(_RETRY.format(problems="; ".join(problems)))]
    label = parsed.label if parsed is not None else None
    return Explanation(template(tool_label, facts, question), "template", label, problems, raw, first_token_s)


def _question_message(text: str, images: Sequence[dict[str, Any]]) -> HumanMessage:
    if not images:
        return HumanMessage(text)
    note = f"\n\nThe {len(images)} image(s) are key frames of the media with each person's number drawn on them."
    return HumanMessage(content=[{"type": "text", "text": text + note}, *images])


def _problems(parsed: StructuredAnswer | None, evidence: Evidence, tool_label: str | None) -> list[str]:
    if parsed is None:
        return ["the reply was not the JSON answer asked for"]
    problems = [problem for statement in check_text(parsed.summary, evidence) for problem in statement.problems]
    problems += [problem for statement in check_text(parsed.label, evidence) for problem in statement.problems]
    if not parsed.evidence:
        problems.append("no fact was cited")
    if tool_label and not labels_agree(tool_label, parsed.label) and not _is_transcript_label(tool_label):
        problems.append(f"the label {parsed.label!r} disagrees with the tools' {tool_label!r}")
    return list(dict.fromkeys(problems))


def _is_transcript_label(label: str) -> bool:
    return len(re.findall(r"\w+", label)) > 6
