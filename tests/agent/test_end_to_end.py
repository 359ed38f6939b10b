"""The agent end to end: the embedded default (Qwen2.5-Coder-0.5B on llama.cpp) as a real process, the real tools,
real media.

The semantic router plans (the measured better planner for this model, ``evals/bench/agent_answers.py``); the
model answers under the grounded JSON schema. What is checked is what the answer must carry whatever the model
writes: the label from the tools' evidence, the cited evidence, an explanation whose every statement the evidence
checker supports (the model's own, a retry, or the evidence template — each is a real outcome), the streamed
prose, the cache and the thread. The checker itself is tested against invented claims in ``test_grounding.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agent.answer import Answer
from agent.grounding import Evidence, check_text
from agent.model import ChatEndpoint
from servers.local.process import LocalServer
from tests.agent import test_encrypted_tool as encrypted_fixtures
from tests.agent.conftest import SessionOn
from tools.langchain_tools import build_tools
from tools.recognition import PlainGallery
from tools.recognition.service import enroll_photos
from tools.settings import get_settings

pytestmark = pytest.mark.slow

# A real `mien serve gallery` process and the real photos enrolled into it (fixtures of the encrypted tool's tests).
gallery_server = encrypted_fixtures.gallery_server
photos = encrypted_fixtures.photos


@pytest.fixture(scope="module")
def embedded() -> Iterator[ChatEndpoint]:
    with LocalServer() as server:
        yield ChatEndpoint(server.base_url, server.model_name, "none", native_tools=False, vision=False, embedded=True)


@pytest.fixture(autouse=True)
def short_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """96 tokens: room for the grounded JSON answer (30-60 tokens), short enough for a 2-core test machine."""
    monkeypatch.setenv("MIEN_AGENT_ANSWER_MAX_TOKENS", "96")
    get_settings.cache_clear()


def assert_grounded(answer: Answer, question: str) -> None:
    """The explanation is there, came from a grounded path, and the checker finds every statement supported."""
    from agent.evidence import EvidenceCache
    from tools.langchain_tools.types import Finding

    cache = EvidenceCache(get_settings().home / "evidence")
    records = [cache.get(str(run["evidence_key"])) for run in answer.tools if run.get("evidence_key")]
    findings = [Finding.from_dict(record.artifact) for record in records if record is not None]
    assert answer.explanation and answer.method in ("model", "model-retry", "template"), answer
    unsupported = [s for s in check_text(answer.explanation, Evidence.of(findings, question)) if not s.supported]
    assert unsupported == [], unsupported


class Counted:
    """The real tools, each wrapped to count how often its function really runs."""

    def __init__(self) -> None:
        self.runs: dict[str, int] = {}
        self.tools: list[BaseTool] = []
        for tool in build_tools(get_settings()):
            assert isinstance(tool, StructuredTool) and tool.func is not None
            tool.func = self._counting(tool.name, tool.func)
            self.tools.append(tool)

    def _counting(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def run(**kwargs: Any) -> Any:
            self.runs[name] = self.runs.get(name, 0) + 1
            return func(**kwargs)

        return run


def test_the_astronaut_looks_happy_and_the_answer_cites_action_units(
    embedded: ChatEndpoint, session_on: SessionOn, astronaut_png: str
) -> None:
    tokens: list[str] = []
    with session_on(embedded) as session:
        answer = session.ask("What is the mood of the astronaut?", [astronaut_png], "mood", on_token=tokens.append)
    assert answer.label == "Happiness"
    assert answer.prompt == "grounded-v1"
    emotions = next(c for c in answer.evidence if c.tool == "read_emotions")
    assert any("AU12" in unit for unit in emotions.action_units)  # lip corner puller: the smile
    assert answer.explanation and "".join(tokens).strip() == answer.explanation
    assert answer.error is None
    assert_grounded(answer, "What is the mood of the astronaut?")
    assert "{" not in answer.explanation  # prose rendered from the JSON, not the JSON


def test_who_is_this_names_the_person_once_she_is_enrolled(
    embedded: ChatEndpoint, session_on: SessionOn, astronaut_png: str, pan_clip: Path
) -> None:
    with session_on(embedded) as session:
        before = session.ask("Who is this?", [str(pan_clip)], "who")
        enroll_photos(PlainGallery(get_settings().resolved_gallery_path), "Eileen Collins", [astronaut_png])
        after = session.ask("Who is this?", [str(pan_clip)], "who")
    assert before.label == "unknown"
    assert "Eileen" not in before.explanation  # the model knows no name the evidence does not give
    assert after.label == "Eileen Collins"
    assert_grounded(after, "Who is this?")
    assert after.tools[0]["cached"] is False  # the enrollment changed the gallery, so the old evidence was stale


def test_how_many_people_are_in_t1(embedded: ChatEndpoint, session_on: SessionOn, group_jpg: str) -> None:
    with session_on(embedded) as session:
        answer = session.ask("How many people are in t1.jpg?", [group_jpg], "count")
    assert answer.label == "6 people"
    assert [c.tool for c in answer.evidence] == ["find_faces"]
    assert_grounded(answer, "How many people are in t1.jpg?")


def test_a_transcript_question_quotes_the_speech(
    embedded: ChatEndpoint, session_on: SessionOn, speech_clip: Path
) -> None:
    with session_on(embedded) as session:
        answer = session.ask("What does she say?", [str(speech_clip)], "words")
    assert answer.label is not None
    # Whisper tiny on synthetic speech misses a word or two; most of the spoken content words must be there.
    spoken = {"morning", "everyone", "weather", "lovely", "garden", "flowers"}
    heard = spoken & set(answer.label.lower().replace(",", " ").replace(".", " ").split())
    assert len(heard) >= 4, heard
    assert_grounded(answer, "What does she say?")  # a quote the model adds must be in the transcript


def test_a_follow_up_reuses_the_cached_evidence(
    embedded: ChatEndpoint, session_on: SessionOn, astronaut_png: str
) -> None:
    counted = Counted()
    with session_on(embedded, counted.tools) as session:
        first = session.ask("How does she feel?", [astronaut_png], "follow")
        runs_after_first = dict(counted.runs)
        second = session.ask("Is she happy or sad?", [astronaut_png], "follow")
    assert runs_after_first == {"read_emotions": 1}
    assert counted.runs == runs_after_first  # no tool ran again
    assert [run["cached"] for run in second.tools] == [True]
    assert second.label == first.label == "Happiness"


def test_a_resumed_thread_answers_from_its_earlier_evidence(
    embedded: ChatEndpoint, session_on: SessionOn, group_jpg: str
) -> None:
    with session_on(embedded) as session:
        session.ask("How many people are in this photo?", [group_jpg], "resume")
    counted = Counted()
    with session_on(embedded, counted.tools) as session:  # a new connection to the thread store
        answer = session.ask("And why do you say so?", [group_jpg], "resume")
        history = session.history("resume")
    assert [question for question, _ in history] == ["How many people are in this photo?", "And why do you say so?"]
    assert counted.runs == {} and answer.tools == []
    assert answer.label == "6 people"


def test_an_encrypted_gallery_identifies_her_through_the_agent(
    embedded: ChatEndpoint,
    session_on: SessionOn,
    gallery_server: str,
    photos: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real ``mien serve gallery`` process holds the CKKS-encrypted templates; the agent routes the question to
    the encrypted search tool, which names the enrolled person from a mirrored probe photo."""
    from tools.encrypted import create_keys, open_encrypted_gallery
    from tools.langchain_tools.encrypted_identity import TOOL_NAME

    keys = tmp_path / "owner-keys"
    create_keys(keys)
    monkeypatch.setenv("MIEN_ENCRYPTED_SERVER_URL", gallery_server)
    monkeypatch.setenv("MIEN_ENCRYPTED_KEYS_DIR", str(keys))
    get_settings.cache_clear()
    gallery = open_encrypted_gallery(keys, server_url=gallery_server, store_path=None)
    enroll_photos(gallery, "Eileen Collins", [photos["astronaut"]])
    enroll_photos(gallery, "Tom Hanks", [photos["hanks"]])
    question = "Find this face in our encrypted gallery."
    with session_on(embedded) as session:
        answer = session.ask(question, [str(photos["astronaut-probe"])], "encrypted")
    assert [run["tool"] for run in answer.tools] == [TOOL_NAME]
    assert answer.label == "Eileen Collins"
    assert_grounded(answer, question)
