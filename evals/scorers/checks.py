"""Scorers of what the answer shows against each turn's expectations: tools, labels, numbers, phrases, identities,
the prompt style. Each returns None (unscored) for a sample whose turns expect nothing of its kind."""

from __future__ import annotations

from functools import reduce
from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState

from agent.grounding import label_key
from evals.metrics.classification import compound_class, emotion_class
from evals.metrics.tool_calls import tool_precision_recall
from evals.scorers.common import answer_of, answer_words, findings_of, sample_turns, tools_called
from evals.scorers.common import mean as average
from evals.scorers.metrics import basic_macro_f1, compound_macro_f1


@scorer(metrics={"tool_precision": [mean()], "tool_recall": [mean()], "tool_forbidden_free": [mean()]})
def tool_calls() -> Scorer:
    """Tool-call precision and recall against the tools each turn must run; ``forbidden_free``: no tool it must
    not run was run. (Keys carry the ``tool_`` prefix: inspect names run metrics by key alone.)"""

    async def score(state: TaskState, target: Target) -> Score | None:
        rows = []
        for turn, record in sample_turns(state):
            if not turn.expect.tools and not turn.expect.not_tools:
                continue
            called = tools_called(record)
            precision, recall = tool_precision_recall(called, turn.expect.tools) if turn.expect.tools else (1.0, 1.0)
            clean = float(not set(called) & set(turn.expect.not_tools))
            rows.append((precision, recall, clean, called))
        if not rows:
            return None
        return Score(
            value={
                "tool_precision": average([r[0] for r in rows]),
                "tool_recall": average([r[1] for r in rows]),
                "tool_forbidden_free": average([r[2] for r in rows]),
            },
            answer=", ".join(tool for r in rows for tool in r[3]),
            explanation="; ".join(f"turn {i + 1}: called {r[3] or 'nothing'}" for i, r in enumerate(rows)),
        )

    return score


def _label_pairs(state: TaskState, kinds: tuple[str, ...]) -> list[tuple[str, str | None, str | None]]:
    """(kind, expected, predicted) for the turns expecting a label of one of ``kinds``."""
    pairs = []
    for turn, record in sample_turns(state):
        expect = turn.expect
        if expect.label is None or expect.label_kind not in kinds:
            continue
        predicted = answer_of(record).label
        if expect.label_kind == "basic":
            pairs.append(("basic", emotion_class(expect.label), emotion_class(predicted)))
        elif expect.label_kind == "compound":
            pairs.append(("compound", compound_class(expect.label), compound_class(predicted)))
        else:
            pairs.append((expect.label_kind, label_key(expect.label), label_key(predicted) or None))
    return pairs


def _label_score(pairs: list[tuple[str, str | None, str | None]]) -> Score | None:
    if not pairs:
        return None
    right = [float(p is not None and t == p) for _, t, p in pairs]
    return Score(
        value=average(right),
        answer="; ".join(str(p) for _, _, p in pairs),
        explanation="; ".join(f"expected {t}, got {p}" for _, t, p in pairs),
        metadata={"pairs": [[t, p] for _, t, p in pairs]},
    )


@scorer(metrics=[mean(), basic_macro_f1()])
def emotion_label() -> Scorer:
    """The answer's label against the expected basic emotion: accuracy (mean) and macro-F1 over the samples."""

    async def score(state: TaskState, target: Target) -> Score | None:
        return _label_score(_label_pairs(state, ("basic",)))

    return score


@scorer(metrics=[mean(), compound_macro_f1()])
def compound_label() -> Scorer:
    """The answer's label against the expected compound class (C-EXPR-DB's 7): accuracy and macro-F1."""

    async def score(state: TaskState, target: Target) -> Score | None:
        return _label_score(_label_pairs(state, ("compound",)))

    return score


@scorer(metrics=[mean()])
def answer_label() -> Scorer:
    """The answer's label against an expected count, name or text (normalised as ``agent.grounding.label_key``)."""

    async def score(state: TaskState, target: Target) -> Score | None:
        return _label_score(_label_pairs(state, ("text", "count")))

    return score


def _fact(facts: Any, dotted: str) -> Any:
    def step(value: Any, part: str) -> Any:
        if isinstance(value, list):
            return value[int(part)] if part.isdigit() and int(part) < len(value) else None
        return value.get(part) if isinstance(value, dict) else None

    return reduce(step, dotted.split("."), facts)


@scorer(metrics=[mean()])
def numbers() -> Scorer:
    """Share of expected numbers that the named tool's finding holds within tolerance."""

    async def score(state: TaskState, target: Target) -> Score | None:
        results: list[tuple[str, bool]] = []
        for turn, record in sample_turns(state):
            for number in turn.expect.numbers:
                values = [_fact(f.facts, number.key) for f in findings_of(record, number.tool)]
                got = next((float(v) for v in values if isinstance(v, int | float)), None)
                ok = got is not None and abs(got - number.value) <= number.tolerance
                results.append((f"{number.tool}.{number.key}={got} (want {number.value}±{number.tolerance})", ok))
        if not results:
            return None
        return Score(value=average([float(ok) for _, ok in results]), explanation="; ".join(r for r, _ in results))

    return score


@scorer(metrics=[mean()])
def phrases() -> Scorer:
    """Share of phrase checks met: each expected phrase in the answer, each forbidden one absent."""

    async def score(state: TaskState, target: Target) -> Score | None:
        results: list[tuple[str, bool]] = []
        for turn, record in sample_turns(state):
            words = answer_words(record)
            results += [(f"says {p!r}", p.lower() in words) for p in turn.expect.phrases]
            results += [(f"avoids {p!r}", p.lower() not in words) for p in turn.expect.not_phrases]
        if not results:
            return None
        failed = [r for r, ok in results if not ok]
        return Score(
            value=average([float(ok) for _, ok in results]),
            explanation="failed: " + "; ".join(failed) if failed else "all met",
        )

    return score


@scorer(metrics=[mean()])
def identities() -> Scorer:
    """Identification hit rate: share of expected names the identification tools gave."""

    async def score(state: TaskState, target: Target) -> Score | None:
        wanted: list[str] = []
        found: set[str] = set()
        for turn, record in sample_turns(state):
            if not turn.expect.identities:
                continue
            wanted += turn.expect.identities
            for finding in findings_of(record):
                if finding.tool.startswith("identify_people"):
                    found |= {str(p.get("label", "")).lower() for p in finding.facts.get("people", [])}
        if not wanted:
            return None
        hits = [name for name in wanted if name.lower() in found]
        return Score(value=len(hits) / len(wanted), answer=", ".join(sorted(found)), explanation=f"found {hits}")

    return score


@scorer(metrics=[mean()])
def prompt_style() -> Scorer:
    """Whether the agent chose the expected reasoning prompt (SoVTP, DEEMO or plain)."""

    async def score(state: TaskState, target: Target) -> Score | None:
        rows = [(turn.expect.style, record.style) for turn, record in sample_turns(state) if turn.expect.style]
        if not rows:
            return None
        return Score(
            value=average([float(want == got) for want, got in rows]),
            answer=", ".join(str(got) for _, got in rows),
            explanation="; ".join(f"expected {want}, chose {got}" for want, got in rows),
        )

    return score
