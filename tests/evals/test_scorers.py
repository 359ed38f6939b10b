"""Scorers on hand-made turn records (no agent run): exact values for the checks, the pooled inspect metrics, and
the MiniLM explanation score ordering a paraphrase above an unrelated text."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from inspect_ai.scorer import SampleScore, Score, Target

from evals.inspect.spec import Case, Expect, IntervalExpect, MediaSpec, NumberExpect, Turn, TurnRecord
from evals.scorers.checks import identities, numbers, phrases, tool_calls
from evals.scorers.evidence import grounding, intervals, liveness
from evals.scorers.explanation import explanation, parse_judge
from evals.scorers.metrics import acer, apcer, spotting_f1, strs
from tools.langchain_tools.types import Finding


def state(expect: Expect, label: str | None, explanation_text: str, tools: list[str], findings: list[Finding]) -> Any:
    """A stand-in for inspect's TaskState carrying one turn (scorers read ``metadata`` and ``store`` only)."""
    case = Case(id="c", media=[MediaSpec(path="x.png")], turns=[Turn(question="How does she feel?", expect=expect)])
    runs = [{"tool": t, "args": {}, "cached": False, "seconds": 0.1, "error": None, "evidence_key": t} for t in tools]
    answer = {"question": "q", "label": label, "explanation": explanation_text, "evidence": [], "tools": runs,
              "prompt": "plain-v1", "privacy": "local"}  # fmt: skip
    record = TurnRecord(question="How does she feel?", answer=answer, findings=[f.to_dict() for f in findings])
    return SimpleNamespace(metadata={"case": case.model_dump(mode="json")}, store={"mien_turns": [record.model_dump()]})


def run(scorer: Any, st: Any) -> Score | None:
    return asyncio.run(scorer(st, Target("")))


FACES = Finding(
    "find_faces", "x.png", "2 people", "2 people found", {"count": 2, "people": [{"person": 1}, {"person": 2}]}
)


def test_tool_calls_and_numbers() -> None:
    wanted = [
        NumberExpect(tool="find_faces", key="count", value=2),
        NumberExpect(tool="find_faces", key="people.1.person", value=1, tolerance=0.5),
    ]
    expect = Expect(tools=["find_faces"], not_tools=["cloak_faces"], numbers=wanted)
    st = state(expect, "2 people", "", ["find_faces", "cloak_faces"], [FACES])
    score = run(tool_calls(), st)
    assert score is not None
    assert score.value == {"tool_precision": 0.5, "tool_recall": 1.0, "tool_forbidden_free": 0.0}
    counted = run(numbers(), st)
    assert counted is not None and counted.value == 0.5  # count 2 holds; people[1].person is 2, not 1 +- 0.5
    assert run(phrases(), st) is None  # nothing to check: unscored


def test_phrases_identities_grounding() -> None:
    who = Finding("identify_people", "x.png", "Ada Lovelace", "1 person: Ada Lovelace",
                  {"people": [{"person": 1, "label": "Ada Lovelace", "score": 0.9}]})  # fmt: skip
    expect = Expect(phrases=["ada"], not_phrases=["sad"], identities=["Ada Lovelace", "Bob"])
    text = "Person 1 is Ada Lovelace. She is 47% sure to be Grace Hopper."
    st = state(expect, "Ada Lovelace", text, ["identify_people"], [who])
    said = run(phrases(), st)
    assert said is not None and said.value == 1.0
    hit = run(identities(), st)
    assert hit is not None and hit.value == 0.5
    grounded = run(grounding(), st)
    # Sentence 1 is supported; sentence 2 invents a number and a name.
    assert grounded is not None and grounded.value == 0.5
    assert "47%" in str(grounded.explanation) and "Grace Hopper" in str(grounded.explanation)


def test_intervals_and_pooled_spotting_metrics() -> None:
    spotted = Finding("spot_expressions", "v.mp4", "micro", "1 spotted", {"intervals": [
        {"onset_s": 1.5, "offset_s": 1.8, "label": "happiness", "kind": "micro"},
        {"onset_s": 3.0, "offset_s": 3.2, "label": "sadness", "kind": "micro"},
    ]})  # fmt: skip
    expect = Expect(intervals=[IntervalExpect(onset_s=1.5, offset_s=1.9, label="happiness")])
    score = run(intervals(), state(expect, None, "", ["spot_expressions"], [spotted]))
    # IoU of [150, 180] and [150, 190] ticks is 31/41 >= 0.5: tp 1, fp 1, fn 0 -> F1 2/3; the label matches.
    assert score is not None and score.value == pytest.approx(2 / 3)
    pooled = [SampleScore(score=score, sample_id="a")]
    assert spotting_f1()(pooled) == pytest.approx(2 / 3)
    assert strs()(pooled) == pytest.approx(2 / 3)  # recognition F1 on the one match is 1


def test_liveness_rates() -> None:
    def verdict(v: str) -> Finding:
        return Finding("detect_attacks", "v.mp4", v, v, {"verdict": v})

    scores = []
    for truth, got in (("attack", "live"), ("attack", "attack"), ("live", "live")):
        st = state(Expect(label=truth, label_kind="liveness"), None, "", ["detect_attacks"], [verdict(got)])
        score = run(liveness(), st)
        assert score is not None
        scores.append(SampleScore(score=score, sample_id=truth + got))
    assert apcer()(scores) == 0.5 and acer()(scores) == 0.25


@pytest.mark.slow
def test_explanation_scores_order_paraphrase_above_unrelated() -> None:
    rubric = "She is happy because she smiles and says she loves the garden."
    expect = Expect(rubric=rubric, clues=["she smiles", "she says she loves the garden"])
    close = run(explanation(), state(expect, None, "She looks happy. She smiles and says she loves the garden.",
                                     [], []))  # fmt: skip
    far = run(explanation(), state(expect, None, "The car is parked outside the station.", [], []))
    assert close is not None and far is not None
    assert isinstance(close.value, dict) and isinstance(far.value, dict)
    assert close.value["emer_similarity"] > far.value["emer_similarity"] + 0.4
    assert close.value["emer_label_f1"] == 1.0 and far.value["emer_label_f1"] == 0.0
    assert close.value["emer_clue_coverage"] == 1.0 and far.value["emer_clue_coverage"] == 0.0


def test_judge_reply_parsing() -> None:
    reply = 'ok {"matched_clues": [0, 2], "labels": ["joyful", "calm"]}'
    assert parse_judge(reply) == ([0, 2], {"happiness", "neutral"})
    assert parse_judge("no json here") == ([], set())


def test_emer_judge_asks_the_pinned_model_at_temperature_zero() -> None:
    from evals.scorers.explanation import JUDGE_PROMPT_VERSION, emer_judge
    from tests.agent.openai_stub import RecordingServer, StubReply

    expect = Expect(rubric="She is happy: she smiles and thanks them.", clues=["she smiles", "she thanks them", "x"])
    st = state(expect, None, "She smiles; she is joyful.", [], [])
    reply = StubReply('{"matched_clues": [0], "labels": ["joyful"]}')
    with RecordingServer(default=reply) as server:
        score = run(emer_judge(server.base_url, "judge-model-v1"), st)
        body = server.requests[-1]
    assert score is not None and score.value == {"emer_judge_clue_recall": 1 / 3, "emer_judge_label_f1": 1.0}
    assert (body["model"], body["temperature"]) == ("judge-model-v1", 0.0)
    assert "0. she smiles" in body["messages"][0]["content"]
    assert score.metadata is not None and score.metadata["judged"][0]["prompt"] == JUDGE_PROMPT_VERSION


def test_spotting_people_count_as_evidence() -> None:
    spotted = Finding("spot_expressions", "v.mp4", "micro", "1 spotted", {"intervals": [
        {"person": 1, "onset_s": 1.53, "offset_s": 1.73, "label": "Happiness", "kind": "micro"}]})  # fmt: skip
    text = "A micro-expression of person 1 from 1.53 s to 1.73 s."
    score = run(grounding(), state(Expect(), "micro", text, ["spot_expressions"], [spotted]))
    assert score is not None and score.value == 1.0  # the person number is in the spotting evidence
