"""`mien serve agent` as a real subprocess, talked to with the official ``openai`` client.

The agent behind it is the real default: the embedded Qwen2.5-Coder-0.5B on llama.cpp (started by the server, as
`mien ask` starts it), the semantic router and the real tools, on skimage's astronaut (one face). What is checked
is what the answer must carry whatever the small model writes: the tools' label ("1 person"), the cited evidence
and tool runs in the response, the streamed text. Bad input gets its status and a message, nothing lands outside
the data folder, and the server still answers afterwards.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from evals import clips, samples
from tools.media import save_image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LIMIT_BYTES = 1_500_000  # the server's upload limit in this test (the astronaut PNG is ~0.5 MB)
QUESTION = "How many people are in this picture?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[openai.OpenAI, Path]]:
    base = tmp_path_factory.mktemp("agent-api")
    data = base / "data"
    save_image(data / "astronaut.png", samples.astronaut())
    clips.pan_zoom_clip(data / "clips" / "pan.mp4", seconds=2.0)
    (base / "outside.png").write_bytes((data / "astronaut.png").read_bytes())
    port = free_port()
    env = {
        **os.environ,
        "MIEN_HOME": str(base / "home"),
        "MIEN_DATA_DIR": str(data),
        "MIEN_SERVER_MAX_UPLOAD_BYTES": str(LIMIT_BYTES),
        "MIEN_AGENT_ANSWER_MAX_TOKENS": "96",
        "MIEN_SERVICE": "off",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("MIEN_LLM_BASE_URL", None)
    command = [sys.executable, "-m", "agent.cli", "serve", "agent", "--port", str(port)]
    log = (base / "server.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            assert process.poll() is None, (base / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1.0)
        else:
            pytest.fail("the agent server did not start: " + (base / "server.log").read_text()[-3000:])
        yield openai.OpenAI(base_url=f"{url}/v1", api_key="none", timeout=600, max_retries=0), data
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def data_url(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def user(*parts: dict[str, Any], text: str = QUESTION) -> list[Any]:
    return [{"role": "user", "content": [{"type": "text", "text": text}, *parts]}]


def test_models_and_an_answer_with_its_evidence(served: tuple[openai.OpenAI, Path]) -> None:
    client, data = served
    assert [model.id for model in client.models.list()] == ["mien-agent"]

    image = {"type": "image_url", "image_url": {"url": data_url(data / "astronaut.png")}}
    response = client.chat.completions.create(model="mien-agent", messages=user(image))

    text = response.choices[0].message.content or ""
    extra = response.model_extra or {}
    assert text.startswith("Answer: 1 person"), text
    assert extra["mien_answer"]["label"] == "1 person"
    assert [run["tool"] for run in extra["mien_tool_calls"]][:1] == ["find_faces"]
    (citation,) = [c for c in extra["mien_evidence"] if c["tool"] == "find_faces"]
    assert citation["label"] == "1 person" and citation["tracks"] == [1]
    stored = Path(citation["media"])
    assert stored.parent == data / "uploads" and stored.suffix == ".png"  # kept under a hash name, typed by content
    assert stored.read_bytes() == (data / "astronaut.png").read_bytes()
    assert response.choices[0].finish_reason == "stop"


def test_streamed_answer_on_a_video_file_reference(served: tuple[openai.OpenAI, Path]) -> None:
    client, data = served
    reference = {"type": "video_url", "video_url": {"url": "clips/pan.mp4"}}  # a path inside the data folder
    question = "How many people are in this video?"
    stream = client.chat.completions.create(model="mien-agent", messages=user(reference, text=question), stream=True)
    chunks = list(stream)

    pieces = [chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices]
    events = [(chunk.model_extra or {}).get("mien_event") for chunk in chunks]
    last = chunks[-1].model_extra or {}
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert last["mien_answer"]["label"] == "1 person"
    assert "Answer: 1 person" in pieces[-1]
    assert any(pieces[:-1]), "the explanation streams before the label and evidence"
    assert {"event": "tool_start", "tool": "find_faces", "args": {"media": str(data / "clips" / "pan.mp4")}} in events
    (run,) = [run for run in last["mien_tool_calls"] if run["tool"] == "find_faces"]
    assert run["args"]["media"] == str(data / "clips" / "pan.mp4") and run["error"] is None and not run["cached"]
    (citation,) = [c for c in last["mien_evidence"] if c["tool"] == "find_faces"]
    assert citation["tracks"] == [1] and len(citation["times_s"]) >= 2  # marks from several frames of the clip


def refusal(client: openai.OpenAI, messages: list[Any], model: str = "mien-agent") -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=model, messages=messages)
    return caught.value


def test_bad_input_is_refused_and_the_server_keeps_serving(served: tuple[openai.OpenAI, Path]) -> None:
    client, data = served
    outside = data.parent / "outside.png"
    uploads_before = sorted((data / "uploads").glob("*")) if (data / "uploads").exists() else []
    big = base64.b64encode(os.urandom(2 * LIMIT_BYTES)).decode("ascii")
    pdf = base64.b64encode(b"%PDF-1.4\n" + b"0" * 2000).decode("ascii")
    broken_mp4 = base64.b64encode(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000)).decode("ascii")

    cases = {
        "too_large": (user({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{big}"}}), 413),
        "wrong_type": (user({"type": "file", "file": {"file_data": pdf, "filename": "notes.pdf"}}), 415),
        "unreadable_video": (
            user({"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{broken_mp4}"}}),
            422,
        ),
        "never_uploaded": (user({"type": "file", "file": {"file_id": "uploads/never.mp4"}}), 404),
        "outside": (user({"type": "image_url", "image_url": {"url": str(outside)}}), 403),
        "escape": (user({"type": "image_url", "image_url": {"url": "../outside.png"}}), 403),
        "remote": (user({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}), 400),
        "no_media": (user(), 400),
    }
    errors = {key: refusal(client, messages) for key, (messages, _) in cases.items()}
    errors["model"] = refusal(client, user(), model="gpt-4o")

    for key, (_, status) in cases.items():
        assert errors[key].status_code == status, (key, errors[key])
    assert errors["model"].status_code == 404
    messages = {
        key: str(error.body.get("message", "")) if isinstance(error.body, dict) else "" for key, error in errors.items()
    }
    assert "limit" in messages["too_large"]
    assert "notes.pdf: not an image, video or audio file" in messages["wrong_type"]
    assert "messages[0].content[1]" in messages["unreadable_video"]
    assert "uploads/never.mp4: no such file in the data folder" in messages["never_uploaded"]
    assert "outside the data folder" in messages["outside"] and "outside the data folder" in messages["escape"]
    assert "remote URLs are not fetched" in messages["remote"]
    assert "no media in the request" in messages["no_media"]

    uploads_after = sorted((data / "uploads").glob("*")) if (data / "uploads").exists() else []
    assert uploads_after == uploads_before  # the refused bytes were not kept (the unreadable video was removed)
    assert sorted(p.name for p in data.parent.iterdir()) == ["data", "home", "outside.png", "server.log"]
    assert [model.id for model in client.models.list()] == ["mien-agent"]  # still serving
