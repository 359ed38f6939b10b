"""The semantic router sends spoofing and liveness questions it was not given to ``detect_attacks``, and only
those: the existing tools keep their questions."""

from __future__ import annotations

import pytest

from agent.router import SemanticRouter
from agent.session import use_torch_threads
from tools.langchain_tools import build_tools
from tools.settings import get_settings
from tools.text_embedding import get_text_embedder

pytestmark = pytest.mark.slow

ATTACK_QUESTIONS = [
    "is this a real person or a photo?",
    "Is that a printed picture of someone?",
    "Is somebody showing a phone screen to the camera?",
    "Is this face fake?",
    "Was this video a deepfake?",
    "Is she really there, or is it a picture?",
]
OTHER_QUESTIONS = ["How many people are in the photo?", "Does she look happy?", "Who is this?"]


@pytest.fixture(scope="module")
def router() -> SemanticRouter:
    settings = get_settings()
    use_torch_threads(settings)
    return SemanticRouter(
        build_tools(settings), get_text_embedder().encode, settings.router_min_score, settings.router_margin
    )


@pytest.mark.parametrize("question", ATTACK_QUESTIONS)
def test_attack_questions_call_detect_attacks(router: SemanticRouter, question: str) -> None:
    plan = router.plan(question, ["clip.mp4"], {"clip.mp4": {"video"}})
    assert plan.intent == "detect_attacks", router.scores(question)
    assert plan.tool_calls[0]["name"] == "detect_attacks"
    assert plan.tool_calls[0]["args"] == {"media": "clip.mp4"}


@pytest.mark.parametrize("question", OTHER_QUESTIONS)
def test_other_questions_do_not(router: SemanticRouter, question: str) -> None:
    assert router.plan(question, ["a.jpg"], {"a.jpg": {"image"}}).intent != "detect_attacks"
