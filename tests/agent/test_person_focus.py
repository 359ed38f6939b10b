"""A question about one person in a two-person clip, end to end: "how does the person on the left feel, and why?"

The clip (``evals.speaker_clips``): the astronaut (left) speaks first, happily; Monica (right) then speaks, worried,
while the astronaut touches her neck. The tools, the media and the agent graph are real; the model is the recording
stub, so that the test reads exactly what the model was given — in the SoVTP prompt and in the grounded facts —:
the left person's emotion, body cues and words, and nothing that the right person said or did.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.answer import Answer
from agent.model import ChatEndpoint
from tests.agent.conftest import SessionOn
from tests.agent.openai_stub import RecordingServer, StubReply
from tools.settings import get_settings

pytestmark = pytest.mark.slow

QUESTION = "How does the person on the left feel, and why?"


def _ask(session_on: SessionOn, clip: Any, thread: str) -> tuple[Answer, str]:
    reply = StubReply("She seems happy: she says so, and she touches her neck while the other speaks.")
    with RecordingServer(default=reply) as server:
        endpoint = ChatEndpoint(server.base_url, "stub-model", "none", native_tools=False, vision=False, embedded=False)
        with session_on(endpoint) as session:
            answer = session.ask(QUESTION, [str(clip.path)], thread)
        # The message that carries the evidence: the one that holds the question after the tools' findings.
        prompt = next(text for text in reversed(server.texts()) if QUESTION in text and text.strip() != QUESTION)
        return answer, prompt.split(QUESTION)[0]


def _only_the_left_person(text: str) -> None:
    lowered = text.lower()
    assert "happy to see you" in lowered  # her words
    assert "hand touches the neck 6." in text  # her body cue, with its time
    assert "worried" not in lowered and "afraid" not in lowered  # nothing the right person said
    # No line is about the right person; her emotion may appear only as the context SoVTP's third stage asks for
    # ("others_in_same_frames" of the left person).
    assert "#2:" not in text and "#2 (" not in text and "person 2 (" not in lowered


def test_the_left_persons_answer_rests_on_her_body_and_her_own_words(
    session_on: SessionOn, speaker_clip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIEN_AGENT_STRUCTURED_ANSWERS", "off")
    get_settings.cache_clear()
    answer, sent = _ask(session_on, speaker_clip, "sovtp")
    assert {run["tool"] for run in answer.tools} == {"read_emotions", "read_body_language", "transcribe_speech"}
    assert answer.prompt == "sovtp-v1"
    assert answer.label is not None and answer.label.startswith("#1: ")
    _only_the_left_person(sent)
    cited = {citation.tool: citation for citation in answer.evidence}
    assert "happy" in cited["transcribe_speech"].summary.lower() and "worried" not in cited["transcribe_speech"].summary
    assert "neck" in cited["read_body_language"].summary
    assert all(citation.tracks in ([], [1]) for citation in answer.evidence)
    assert answer.explanation.startswith("She seems happy")

    monkeypatch.setenv("MIEN_AGENT_STRUCTURED_ANSWERS", "on")  # the grounded path: numbered facts, same evidence
    get_settings.cache_clear()
    grounded, facts = _ask(session_on, speaker_clip, "grounded")
    assert all(run["cached"] for run in grounded.tools)
    assert grounded.label == answer.label
    _only_the_left_person(facts)
