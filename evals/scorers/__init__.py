"""inspect scorers for Mien's agent: what each turn's answer shows against the case's expectations.

``scorers_for(cases)`` picks the scorers a suite's cases use (a scorer no case needs would only add unscored rows).
Metric code lives in ``evals.metrics``; each scorer reads the solver's turn records (``evals.inspect.solver``).
"""

from __future__ import annotations

from collections.abc import Sequence

from inspect_ai.scorer import Scorer

from evals.inspect.spec import Case
from evals.scorers.checks import (
    answer_label,
    compound_label,
    emotion_label,
    identities,
    numbers,
    phrases,
    prompt_style,
    tool_calls,
)
from evals.scorers.evidence import cloaking, grounding, intervals, latency, liveness
from evals.scorers.explanation import emer_judge, explanation

__all__ = ["scorers_for"]


def scorers_for(cases: Sequence[Case], judge_url: str | None = None, judge_model: str | None = None) -> list[Scorer]:
    """Every scorer the cases' expectations call for, plus grounding and latency (always)."""
    expects = [turn.expect for case in cases for turn in case.turns]
    kinds = {e.label_kind for e in expects if e.label is not None}
    chosen: list[Scorer] = []
    if any(e.tools or e.not_tools for e in expects):
        chosen.append(tool_calls())
    if "basic" in kinds:
        chosen.append(emotion_label())
    if "compound" in kinds:
        chosen.append(compound_label())
    if kinds & {"text", "count"}:
        chosen.append(answer_label())
    if "liveness" in kinds:
        chosen.append(liveness())
    if any(e.numbers for e in expects):
        chosen.append(numbers())
    if any(e.phrases or e.not_phrases for e in expects):
        chosen.append(phrases())
    if any(e.identities for e in expects):
        chosen.append(identities())
    if any(e.intervals is not None for e in expects):
        chosen.append(intervals())
    if any(e.style for e in expects):
        chosen.append(prompt_style())
    if any("cloak_faces" in e.tools for e in expects):
        chosen.append(cloaking())
    if any(e.rubric for e in expects):
        chosen.append(explanation())
        if judge_url:
            chosen.append(emer_judge(judge_url, judge_model) if judge_model else emer_judge(judge_url))
    chosen += [grounding(), latency()]
    return chosen
