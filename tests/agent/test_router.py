"""The semantic router on paraphrases it was not given (with the packaged MiniLM embedder and the real tools'
descriptions), the media it picks, and the focus it reads from a question."""

from __future__ import annotations

import pytest

from agent.router import Focus, SemanticRouter, parse_focus
from agent.session import use_torch_threads
from tools.langchain_tools import build_tools
from tools.langchain_tools.base import tool_examples
from tools.settings import get_settings
from tools.text_embedding import get_text_embedder

PARAPHRASES: dict[str | None, list[str]] = {
    "find_faces": [
        "How many people are in t1.jpg?",
        "How many faces can you see?",
        "Count the people in the photo.",
        "Is there more than one person here?",
        "how many ppl r in this pic",
    ],
    "identify_people": [
        "Do you know this person?",
        "What's his name?",
        "Can you tell me who appears in the video?",
        "Is that Tom Hanks?",
        "Recognise the man on the right.",
    ],
    "read_emotions": [
        "What mood is the astronaut in?",
        "Does she look happy?",
        "How is he feeling?",
        "What emotions do the people show?",
        "Is anybody upset?",
    ],
    "transcribe_speech": [
        "What is said in the clip?",
        "Can you transcribe the speech?",
        "What did the speaker say?",
        "Write down the dialogue.",
        "What are they discussing?",
    ],
    "deidentify_media": [
        "Anonymise everyone in the video.",
        "Hide their identities.",
        "Remove the faces from this footage so nobody can be recognized.",
    ],
    "emotion_without_faces": [
        "Judging only by the voice, how does she feel?",
        "Without using facial expressions, what is the mood?",
    ],
    None: ["What's the weather tomorrow?", "Write me a poem about cats.", "hello"],
}
CASES = [(intent, question) for intent, questions in PARAPHRASES.items() for question in questions]
CLIP = "/data/interview.mp4"
PHOTO = "/data/t1.jpg"
KINDS = {CLIP: {"video", "audio"}, PHOTO: {"image"}}


@pytest.fixture(scope="module")
def router() -> SemanticRouter:
    settings = get_settings()
    use_torch_threads(settings)
    return SemanticRouter(
        build_tools(settings), get_text_embedder().encode, settings.router_min_score, settings.router_margin
    )


def test_the_paraphrases_are_not_the_tools_own_examples() -> None:
    examples = {example.lower() for tool in build_tools(get_settings()) for example in tool_examples(tool)}
    assert not [question for _, question in CASES if question.lower() in examples]


@pytest.mark.parametrize(("intent", "question"), CASES)
def test_a_paraphrase_reaches_its_intent(router: SemanticRouter, intent: str | None, question: str) -> None:
    assert router.plan(question, [CLIP], KINDS).intent == intent


def test_a_question_naming_a_file_runs_the_tool_on_that_file_only(router: SemanticRouter) -> None:
    plan = router.plan("How many people are in t1.jpg?", [CLIP, PHOTO], KINDS)
    assert [(call["name"], call["args"]["media"]) for call in plan.tool_calls] == [("find_faces", PHOTO)]


def test_a_speech_tool_is_not_called_on_an_image(router: SemanticRouter) -> None:
    plan = router.plan("What is said here?", [PHOTO], KINDS)
    assert plan.intent == "transcribe_speech" and plan.tool_calls == []


def test_affect_questions_get_the_sovtp_prompt_and_faceless_ones_deemo(router: SemanticRouter) -> None:
    assert router.plan("How does she feel?", [CLIP], KINDS).style == "sovtp"
    plan = router.plan("Explain the emotion without looking at faces.", [CLIP], KINDS)
    assert plan.style == "deemo" and {call["name"] for call in plan.tool_calls} >= {"transcribe_speech"}


def test_the_minimum_score_is_configurable(router: SemanticRouter) -> None:
    strict = SemanticRouter(list(router.tools.values()), router.embed, min_score=0.99, margin=0.0)
    assert strict.plan("Count the people in the photo.", [PHOTO], KINDS).tool_calls == []
    assert router.plan("Count the people in the photo.", [PHOTO], KINDS).tool_calls


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("How does the woman on the left feel at 0:12, and why?", Focus(None, "left", 12.0)),
        ("What about person 2 at 1:05.5?", Focus(2, None, 65.5)),
        ("And #3 after 4 seconds?", Focus(3, None, 4.0)),
        ("Who is in the middle?", Focus(None, "center", None)),
        ("How do they feel?", Focus(None, None, None)),
    ],
)
def test_focus_is_read_from_the_question(question: str, focus: Focus) -> None:
    assert parse_focus(question) == focus
