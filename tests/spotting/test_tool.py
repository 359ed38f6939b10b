"""The ``spot_expressions`` agent tool: its finding carries every interval's times, kind and label, cites the
apex face, and says how labels were read; the real tool on a composed clip; the router picks it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tools.expression.action_units import MEASURES, GeometricMeasures
from tools.langchain_tools import CAPABILITIES, build_tools
from tools.langchain_tools.spotting import spotting_finding
from tools.spotting.types import ExpressionInterval, IntervalKind, SpottingResult, TrackSpan

ZERO = GeometricMeasures(np.zeros(len(MEASURES)), 1.0)


def interval(kind: IntervalKind, onset_s: float, offset_s: float, label: str | None) -> ExpressionInterval:
    return ExpressionInterval(1, round(onset_s * 30), round(onset_s * 30) + 2, round(offset_s * 30), onset_s,
                              onset_s + 0.1, offset_s, kind, 2.5, ("mouth",), label, 1.2,
                              action_units=("AU12 lip corner puller 1.6",), apex_box=(10.0, 20.0, 110.0, 140.0))


def result(*intervals: ExpressionInterval, tracks: bool = True) -> SpottingResult:
    spans = [TrackSpan(1, 0, 299, 300, True)] if tracks else []
    return SpottingResult("clip.mp4", 30.0, 300, 10.0, "training-free", list(intervals), spans)


def test_the_label_is_the_first_micro_expression_with_its_times() -> None:
    finding = spotting_finding("clip.mp4", result(interval("macro", 1.0, 3.0, "Sadness"),
                                                  interval("micro", 5.5, 5.8, "Happiness")))
    assert finding.label == "micro-expression at 5.50-5.80 s (Happiness)"
    assert "1 micro- and 1 macro-expressions spotted" in finding.summary
    content = json.loads(finding.content())
    assert [(i["kind"], i["onset_s"], i["offset_s"]) for i in content["intervals"]] == [
        ("macro", 1.0, 3.0), ("micro", 5.5, 5.8)]
    assert "estimate" in content["label_method"]
    box = [10.0, 20.0, 110.0, 140.0]
    assert sorted((m.time_s, m.box) for m in finding.marks) == [(1.1, box), (5.6, box)]
    assert finding.marks[0].labels[1] == "AU12 lip corner puller 1.6"


def test_no_interval_and_no_face_are_said_plainly() -> None:
    assert spotting_finding("clip.mp4", result()).label == "none spotted"
    nobody = spotting_finding("clip.mp4", result(tracks=False))
    assert nobody.label is None and nobody.summary.startswith("no face found")


def test_the_tool_is_registered_for_videos() -> None:
    assert "spotting" in CAPABILITIES
    tool = next(t for t in build_tools(names=("spotting",)))
    assert tool.name == "spot_expressions"
    assert tool.metadata is not None and tool.metadata["kinds"] == ["video"]


@pytest.mark.slow
def test_the_real_tool_on_a_composed_clip(expression_clip: Path) -> None:
    tool = next(t for t in build_tools(names=("spotting",)))
    content, artifact = tool.func(media=str(expression_clip))  # type: ignore[attr-defined]
    assert artifact["label"].startswith("micro-expression at 2.")
    assert "(Happiness)" in artifact["label"]
    assert json.loads(content)["intervals"][1]["label"] == "Sadness"


@pytest.fixture(scope="module")
def router():  # type: ignore[no-untyped-def]
    from agent.router import SemanticRouter
    from agent.session import use_torch_threads
    from tools.settings import get_settings
    from tools.text_embedding import get_text_embedder

    settings = get_settings()
    use_torch_threads(settings)
    return SemanticRouter(build_tools(settings), get_text_embedder().encode, settings.router_min_score,
                          settings.router_margin)


@pytest.mark.parametrize(
    "question",
    [
        "when does the person show a micro-expression?",
        "Is there a micro expression anywhere in this clip?",
        "When do the micro-expressions happen in the interview?",
        "Give me the times of the subtle expressions.",
    ],
)
def test_the_router_sends_timing_questions_to_the_spotter(router, question: str) -> None:  # type: ignore[no-untyped-def]
    clip = "/data/interview.mp4"
    plan = router.plan(question, [clip], {clip: {"video"}})
    assert plan.intent == "spot_expressions"
    assert [call["name"] for call in plan.tool_calls] == ["spot_expressions"]
