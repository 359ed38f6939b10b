"""The agent against a remote OpenAI-compatible model (a recording stub): privacy mode, a slow, down or refusing
endpoint, broken tool calls over HTTP, and the capability probes. Tools, media and the face detector are real."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.model import ChatEndpoint, probe_tool_calling, probe_vision
from agent.privacy import decode_data_url
from agent.session import AgentSession
from tests.agent.conftest import SessionOn
from tests.agent.openai_stub import RecordingServer, StubReply
from tools.deidentify.hiding import detector_at
from tools.errors import MediaError, ServiceError
from tools.faces import get_detector
from tools.recognition import PlainGallery
from tools.recognition.service import enroll_photos
from tools.settings import get_settings

NAME = "Eileen Collins"


@pytest.fixture(autouse=True)
def free_prose(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stub answers in plain prose: these tests check what reaches the model and how the answer comes back on
    the free-prose path; the grounded JSON path is tested in test_grounding.py and test_end_to_end.py."""
    monkeypatch.setenv("MIEN_AGENT_STRUCTURED_ANSWERS", "off")
    get_settings.cache_clear()


def endpoint(server: RecordingServer, native: bool = False, vision: bool = False) -> ChatEndpoint:
    return ChatEndpoint(server.base_url, "stub-model", "none", native, vision, embedded=False)


def faces_in(url: str, original: np.ndarray) -> int:
    """Faces found in a sent image: anything mediapipe finds at a low threshold (0.2, well under the analysis
    threshold), and what dlib's HOG detector finds where the original image has a face (HOG also fires on the
    astronaut's round mission patch, in the original too, which is not a face)."""
    image = decode_data_url(url)
    assert image.shape == original.shape
    faces = [face.box for face in get_detector("mediapipe").detect(original)]
    sensitive = detector_at("mediapipe", 0.2).detect(image)
    hog = [f for f in get_detector("dlib-hog").detect(image) if any(f.box.iou(box) > 0.3 for box in faces)]
    return len(sensitive) + len(hog)


def ask_about_eileen(session_on: SessionOn, photo: str, privacy: str) -> RecordingServer:
    """Enroll the astronaut by name, then let a tool-calling model identify her and read her mood."""
    enroll_photos(PlainGallery(get_settings().resolved_gallery_path), NAME, [photo])
    media = json.dumps({"media": photo})
    script = [
        StubReply(tool_calls=[("identify_people", media), ("read_emotions", media)]),
        StubReply("I have what I need."),
        StubReply("She smiles broadly."),
    ]
    with RecordingServer(script) as server, session_on(endpoint(server, native=True, vision=True)) as session:
        answer = session.ask(f"How does {NAME} feel?", [photo], "t", privacy)  # type: ignore[arg-type]
    assert answer.error is None and answer.explanation == "She smiles broadly."
    return server


@pytest.mark.slow
def test_deidentified_mode_sends_no_face_and_no_enrolled_name(
    session_on: SessionOn, astronaut_png: str, astronaut: np.ndarray
) -> None:
    server = ask_about_eileen(session_on, astronaut_png, "deidentified")
    images = server.image_urls()
    assert images, "the answer step should have sent key frames"
    assert [faces_in(url, astronaut) for url in images] == [0] * len(images)
    sent = "\n".join(server.texts()).lower()
    assert "eileen" not in sent and "collins" not in sent
    assert "person 1" in sent  # the name became her track number


@pytest.mark.slow
def test_local_mode_sends_the_face_and_the_name(
    session_on: SessionOn, astronaut_png: str, astronaut: np.ndarray
) -> None:
    """The control: without de-identification the same checks do find a face and the name."""
    server = ask_about_eileen(session_on, astronaut_png, "local")
    assert any(faces_in(url, astronaut) for url in server.image_urls())
    assert any(NAME in text for text in server.texts())


@pytest.mark.slow
def test_a_slow_model_times_out_with_a_clear_message_and_the_thread_goes_on(
    session_on: SessionOn, astronaut_png: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIEN_AGENT_REQUEST_TIMEOUT_S", "1")
    get_settings.cache_clear()
    with (
        RecordingServer([StubReply("Too late.", delay_s=4)], StubReply("One person.")) as server,
        session_on(endpoint(server)) as session,
    ):
        first = session.ask("How many people are in this photo?", [astronaut_png], "slow")
        assert first.error is not None and "did not answer within 1 s" in first.error
        assert first.label == "1 person"
        second = session.ask("How many people are in this photo?", [astronaut_png], "slow")
    assert second.error is None and second.explanation == "One person."
    assert all(run["cached"] for run in second.tools)


def test_a_down_endpoint_is_named_in_the_error() -> None:
    with (
        pytest.raises(ServiceError, match=r"cannot reach the chat model at http://127\.0\.0\.1:9/v1"),
        AgentSession.open(get_settings(), model_url="http://127.0.0.1:9"),
    ):
        pass


@pytest.mark.slow
def test_malformed_and_unknown_tool_calls_over_http_are_answered_with_errors(
    session_on: SessionOn, astronaut_png: str
) -> None:
    script = [
        StubReply(tool_calls=[("find_faces", '{"media": '), ("summon_expert", "{}")]),
        StubReply(tool_calls=[("find_faces", json.dumps({"media": astronaut_png}))]),
        StubReply("Enough."),
        StubReply("There is one person."),
    ]
    with RecordingServer(script) as server, session_on(endpoint(server, native=True)) as session:
        answer = session.ask("How many people?", [astronaut_png], "broken")
    replies = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert any("not valid JSON" in m["content"] for m in replies)
    assert any("there is no tool 'summon_expert'" in m["content"] for m in replies)
    assert answer.label == "1 person" and answer.explanation == "There is one person."


@pytest.mark.slow
def test_unreadable_media_is_refused_before_the_thread_changes(
    session_on: SessionOn, astronaut_png: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    with RecordingServer(default=StubReply("One person.")) as server, session_on(endpoint(server)) as session:
        with pytest.raises(MediaError, match=r"broken\.mp4"):
            session.ask("How many people?", [str(broken)], "mixed")
        answer = session.ask("How many people?", [astronaut_png], "mixed")
        assert [q for q, _ in session.history("mixed")] == ["How many people?"]
    assert answer.label == "1 person"


def test_probes_read_tool_calling_and_vision_from_the_endpoint() -> None:
    calls = StubReply(tool_calls=[("get_time", '{"city": "Paris"}')])
    with RecordingServer([calls, StubReply("It is noon."), StubReply(status=400)]) as server:
        assert probe_tool_calling(server.base_url, "stub-model", "none") is True
        assert probe_tool_calling(server.base_url, "stub-model", "none") is False
        assert probe_vision(server.base_url, "stub-model", "none") is False
        assert probe_vision(server.base_url, "stub-model", "none") is True
