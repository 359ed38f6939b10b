"""What every scorer reads: the case's turns paired with what the agent did on each (the solver's turn records)."""

from __future__ import annotations

from typing import Any

from agent.answer import Answer
from evals.inspect.solver import turn_records
from evals.inspect.spec import Case, Turn, TurnRecord
from tools.langchain_tools.types import Finding


def sample_turns(state: Any) -> list[tuple[Turn, TurnRecord]]:
    """(expected turn, record) pairs of a ``TaskState``; turns the agent did not reach are left out."""
    case = Case.model_validate(state.metadata["case"])
    return list(zip(case.turns, turn_records(state), strict=False))


def answer_of(record: TurnRecord) -> Answer:
    return Answer.from_dict(dict(record.answer))


def findings_of(record: TurnRecord, tool: str | None = None) -> list[Finding]:
    """The findings the turn's answer rested on (of ``tool`` only, when given)."""
    found = [Finding.from_dict(dict(item)) for item in record.findings]
    return [f for f in found if tool is None or f.tool == tool]


def tools_called(record: TurnRecord) -> list[str]:
    """Distinct tools the turn ran (cached runs count: the agent asked for them), in call order."""
    return list(dict.fromkeys(str(run["tool"]) for run in answer_of(record).tools))  # type: ignore[index]


def answer_words(record: TurnRecord) -> str:
    """The answer as the user reads it (label, explanation, evidence lines), lower-cased."""
    return answer_of(record).text().lower()


def mean(values: list[float]) -> float:
    return sum(values) / len(values)
