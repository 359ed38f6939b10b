"""Questions that take the other reasoning paths, against a recording stub model: the DEEMO prompt for "without
looking at faces", and the de-identification tool that hands back a clip. Tools and media are real."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.model import ChatEndpoint
from agent.privacy import decode_data_url
from tests.agent.conftest import SessionOn
from tests.agent.openai_stub import RecordingServer, StubReply
from tools.deidentify.hiding import detector_at
from tools.media import iter_frames
from tools.settings import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def free_prose(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stub answers in plain prose: these tests check what reaches the model and how the answer comes back on
    the free-prose path; the grounded JSON path is tested in test_grounding.py and test_end_to_end.py."""
    monkeypatch.setenv("MIEN_AGENT_STRUCTURED_ANSWERS", "off")
    get_settings.cache_clear()


def stub_endpoint(server: RecordingServer) -> ChatEndpoint:
    return ChatEndpoint(server.base_url, "stub-model", "none", native_tools=False, vision=True, embedded=False)


def test_without_faces_the_model_gets_words_and_voice_but_no_face(session_on: SessionOn, speech_clip: Path) -> None:
    with RecordingServer(default=StubReply("Calm and cheerful.")) as server, session_on(stub_endpoint(server)) as s:
        answer = s.ask("Explain the emotion without looking at faces.", [str(speech_clip)], "deemo")
    assert answer.prompt == "deemo-v1"
    assert {run["tool"] for run in answer.tools} >= {"transcribe_speech"}
    prompt = server.texts()[-1]
    assert "garden" in prompt.lower() and "pitch_mean_hz" in prompt  # the words and how they were spoken
    assert "AU12" not in prompt and "Happiness" not in prompt  # nothing read from the face
    sensitive = detector_at("mediapipe", 0.2)
    images = [decode_data_url(url) for url in server.image_urls()]
    assert images and all(sensitive.detect(image) == [] for image in images)


def test_blur_everyone_hands_back_a_clip_without_faces(session_on: SessionOn, pan_clip: Path) -> None:
    with (
        RecordingServer(default=StubReply("Here is the blurred clip.")) as server,
        session_on(stub_endpoint(server)) as s,
    ):
        answer = s.ask("Blur everyone and give me the clip.", [str(pan_clip)], "blur")
    assert [run["tool"] for run in answer.tools] == ["deidentify_media"]
    written = Path(answer.evidence[0].files[0])
    assert written.is_file() and written.suffix == ".mp4" and answer.label == str(written)
    frames = [frame.image for frame in iter_frames(written, fps=2.0)]
    assert len(frames) >= 6
    sensitive = detector_at("mediapipe", 0.2)
    assert [len(sensitive.detect(np.asarray(frame))) for frame in frames] == [0] * len(frames)
