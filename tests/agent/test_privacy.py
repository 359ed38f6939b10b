"""The privacy guard on its own: names out of every kind of text, faces out of every image, no audio."""

from __future__ import annotations

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agent.privacy import PrivacyGuard, decode_data_url, image_data_url, names_on_screen
from tools.faces import get_detector
from tools.langchain_tools.types import Finding

ON_SCREEN = {"Eileen Collins": 1}
ENROLLED = ["Eileen Collins", "Tom Hanks"]


def guard(mode: str = "deidentified") -> PrivacyGuard:
    return PrivacyGuard(mode, ON_SCREEN, ENROLLED)  # type: ignore[arg-type]


def test_names_on_screen_become_track_numbers_and_others_someone() -> None:
    text = guard().text("Is eileen collins happier than Tom Hanks? Eileen smiles; Hanks does not.")
    assert text == "Is Person 1 happier than someone? Person 1 smiles; someone does not."


def test_local_mode_changes_nothing(astronaut: np.ndarray) -> None:
    local = guard("local")
    assert local.text("Eileen Collins") == "Eileen Collins"
    assert local.image(astronaut) is astronaut


def test_every_message_kind_is_filtered() -> None:
    messages = [
        SystemMessage("About Eileen Collins."),
        HumanMessage(
            content=[
                {"type": "text", "text": "How does Eileen feel?"},
                {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
            ]
        ),
        AIMessage(content="", tool_calls=[{"name": "identify_people", "args": {"note": "Tom Hanks?"}, "id": "c1"}]),
        ToolMessage(content='{"label": "Eileen Collins"}', tool_call_id="c1"),
    ]
    sent = guard().messages(messages)
    flat = repr([m.content for m in sent]) + repr(getattr(sent[2], "tool_calls", None))
    assert "Eileen" not in flat and "Collins" not in flat and "Tom" not in flat and "Hanks" not in flat
    assert isinstance(sent[2], AIMessage) and isinstance(sent[1].content, list)
    assert [part["type"] for part in sent[1].content if isinstance(part, dict)] == ["text"]  # the voice was dropped
    assert messages[0].content == "About Eileen Collins."  # the originals are untouched


def test_images_leave_without_a_detectable_face(astronaut: np.ndarray) -> None:
    detector = get_detector("mediapipe")
    assert detector.detect(astronaut)  # the photo has a face to hide
    message = HumanMessage(content=[{"type": "image_url", "image_url": {"url": image_data_url(astronaut)}}])
    sent = guard().messages([message])[0]
    assert isinstance(sent.content, list) and isinstance(sent.content[0], dict)
    image = decode_data_url(sent.content[0]["image_url"]["url"])
    assert image.shape == astronaut.shape
    assert detector.detect(image) == []


def test_names_on_screen_come_from_identification_findings() -> None:
    found = Finding(
        "identify_people",
        "a.mp4",
        "Eileen Collins",
        "",
        {"people": [{"person": 2, "label": "Eileen Collins"}, {"person": 3, "label": "unknown"}]},
    )
    other = Finding("find_faces", "a.mp4", "2 people", "", {"people": [{"person": 2, "label": "x"}]})
    assert names_on_screen([found, other]) == {"Eileen Collins": 2}
