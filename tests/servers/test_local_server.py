"""The embedded chat server as a real subprocess serving the real packaged SmolLM2-135M-Instruct on transformers.

(The small fallback model and the fallback runtime; the default, Qwen2.5-Coder on llama.cpp, is tested in
``test_llama_engine.py`` and ``test_llama_server.py``.)

The server starts once for the module (dequantizing the GGUF takes 20-90 s on a busy 2-core machine) with a queue
of 2, so that three requests in flight are served and a fourth to sixth are refused with 503. Its MIEN_HOME is the
module's own, so the dequantized cache starts empty and the first start really converts the GGUF.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from PIL import Image

from servers.local import LocalServer
from servers.local.api_router import IMAGES_DROPPED_HEADER
from servers.local.serving import ServiceLimits
from tools.errors import ConfigError, ServiceError
from tools.settings import Settings

pytestmark = pytest.mark.slow

MAX_QUEUE = 2
QUESTION = "What is the capital of France? Answer in one sentence."


def _settings(home: Path) -> Settings:
    return Settings(home=home, cache_dir=home / "cache", llm_embedded="smollm2-135m", llm_runtime="transformers")


@pytest.fixture(scope="module")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-home")


@pytest.fixture(scope="module")
def server(server_home: Path) -> Iterator[LocalServer]:
    limits = ServiceLimits(threads=1, max_queue=MAX_QUEUE, default_max_tokens=48, runtime="transformers")
    with LocalServer(limits=limits, startup_timeout_s=600, settings=_settings(server_home)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.root_url, timeout=300, trust_env=False) as client:
        yield client


def _chat(server: LocalServer, content: Any = QUESTION, **fields: Any) -> dict[str, Any]:
    return {"model": server.model_name, "messages": [{"role": "user", "content": content}], **fields}


def _stream_events(http: httpx.Client, payload: dict[str, Any]) -> list[str]:
    with http.stream("POST", "/v1/chat/completions", json={**payload, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line for line in response.iter_lines() if line]


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert {"message", "type", "param", "code"} <= set(body["error"])
    error: dict[str, Any] = body["error"]
    return error


# ---------------------------------------------------------------- health and models


def test_health_says_ok_once_loaded(server: LocalServer, http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": "SmolLM2-135M-Instruct"}


def test_models_lists_the_served_model(server: LocalServer, http: httpx.Client) -> None:
    body = http.get("/v1/models").json()
    assert body["object"] == "list"
    assert [card["id"] for card in body["data"]] == [server.model_name]


# ---------------------------------------------------------------- completions


def test_non_streamed_completion(server: LocalServer, http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=_chat(server, max_tokens=24, temperature=0))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == server.model_name
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert "Paris" in choice["message"]["content"]
    assert choice["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert 0 < usage["completion_tokens"] <= 24
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_streamed_deltas_equal_the_non_streamed_answer(server: LocalServer, http: httpx.Client) -> None:
    payload = _chat(server, max_tokens=32, temperature=0, seed=7, stream_options={"include_usage": True})
    whole = http.post("/v1/chat/completions", json=payload).json()
    events = _stream_events(http, payload)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    finishes = [c["choices"][0].get("finish_reason") for c in chunks if c["choices"]]
    assert streamed == whole["choices"][0]["message"]["content"]
    assert finishes[-1] == whole["choices"][0]["finish_reason"]
    assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) > 2
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"]


def test_sampling_with_the_same_seed_repeats(server: LocalServer, http: httpx.Client) -> None:
    payload = _chat(server, "Write a short poem about the sea.", max_tokens=16, temperature=1.0, top_p=0.95, seed=11)
    first = http.post("/v1/chat/completions", json=payload).json()["choices"][0]["message"]["content"]
    second = http.post("/v1/chat/completions", json=payload).json()["choices"][0]["message"]["content"]
    assert first == second
    assert first


def test_max_tokens_cuts_the_answer(server: LocalServer, http: httpx.Client) -> None:
    body = http.post("/v1/chat/completions", json=_chat(server, "Tell me a long story.", max_tokens=3)).json()
    assert body["usage"]["completion_tokens"] == 3
    assert body["choices"][0]["finish_reason"] == "length"


def test_a_stop_sequence_ends_the_answer_before_it(server: LocalServer, http: httpx.Client) -> None:
    full = http.post("/v1/chat/completions", json=_chat(server, max_tokens=24, temperature=0)).json()
    text = full["choices"][0]["message"]["content"]
    words = text.split()
    stop = words[len(words) // 2]
    cut = http.post("/v1/chat/completions", json=_chat(server, max_tokens=24, temperature=0, stop=[stop])).json()
    assert cut["choices"][0]["message"]["content"] == text[: text.index(stop)]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_an_image_part_is_accepted_and_reported_as_dropped(
    server: LocalServer, http: httpx.Client, astronaut: np.ndarray
) -> None:
    buffer = io.BytesIO()
    Image.fromarray(astronaut).save(buffer, format="JPEG")
    url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    content = [{"type": "text", "text": "Describe this picture."}, {"type": "image_url", "image_url": {"url": url}}]
    response = http.post("/v1/chat/completions", json=_chat(server, content, max_tokens=8))
    assert response.status_code == 200
    assert response.headers[IMAGES_DROPPED_HEADER] == "1"
    assert response.json()["choices"][0]["message"]["content"]


# ---------------------------------------------------------------- concurrency


async def _post_all(server: LocalServer, payloads: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=server.root_url, timeout=300, trust_env=False) as client:
        return list(await asyncio.gather(*(client.post("/v1/chat/completions", json=p) for p in payloads)))


def test_concurrent_requests_are_all_answered(server: LocalServer) -> None:
    questions = ["Name a colour.", "Name a fruit.", "Name an animal."]  # one generating + MAX_QUEUE waiting
    responses = asyncio.run(_post_all(server, [_chat(server, q, max_tokens=8, temperature=0) for q in questions]))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json()["choices"][0]["message"]["content"] for r in responses)


def test_a_full_queue_answers_503(server: LocalServer) -> None:
    payloads = [_chat(server, f"Count to {n}.", max_tokens=24) for n in range(6)]
    responses = asyncio.run(_post_all(server, payloads))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == MAX_QUEUE + 1
    assert codes.count(503) == 6 - (MAX_QUEUE + 1)
    refused = next(r for r in responses if r.status_code == 503)
    assert _error(refused)["code"] == "queue_full"
    assert refused.headers["retry-after"] == "2"  # told when to come back (servers.local.errors)


# ---------------------------------------------------------------- bad requests


def test_missing_messages_is_a_400_naming_the_field(server: LocalServer, http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={"model": server.model_name})
    assert response.status_code == 400
    error = _error(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "messages"


def test_invalid_json_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = _error(response)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("the request body is not valid JSON")
    assert error["param"] is None


def test_an_unknown_model_is_a_404(server: LocalServer, http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={**_chat(server), "model": "gpt-4o"})
    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "model_not_found"
    assert server.model_name in error["message"]


def test_a_broken_image_is_a_400(server: LocalServer, http: httpx.Client) -> None:
    content = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    response = http.post("/v1/chat/completions", json=_chat(server, content))
    assert response.status_code == 400
    assert "readable image" in _error(response)["message"]


def test_asking_beyond_the_context_is_a_400(server: LocalServer, http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=_chat(server, max_tokens=9000))
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "context_length_exceeded"
    assert "8192" in error["message"]


def test_an_unknown_route_is_a_404_in_openai_shape(http: httpx.Client) -> None:
    response = http.post("/v1/completions", json={})
    assert response.status_code == 404
    assert _error(response)["type"] == "invalid_request_error"


# ---------------------------------------------------------------- LangChain as the client


@tool
def count_faces(path: str) -> int:
    """Count the human faces in an image file."""
    raise NotImplementedError  # never run: only its schema is offered to the model


@tool
def transcribe(path: str) -> str:
    """Transcribe the speech in an audio or video file."""
    raise NotImplementedError


def _langchain(server: LocalServer) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=server.base_url,
        api_key="none",  # type: ignore[arg-type]
        model=server.model_name,
        temperature=0,
        max_tokens=32,  # type: ignore[call-arg]
        max_retries=0,
        timeout=300,
    )


def test_langchain_invoke_and_stream_agree(server: LocalServer) -> None:
    model = _langchain(server)
    answer = model.invoke(QUESTION)
    assert isinstance(answer, AIMessage)
    assert "Paris" in str(answer.content)
    streamed = "".join(str(chunk.content) for chunk in model.stream(QUESTION))
    assert streamed == answer.content


def test_langchain_named_tool_choice_returns_a_parsed_call(server: LocalServer) -> None:
    model = _langchain(server).bind_tools([count_faces, transcribe], tool_choice="count_faces")
    answer = model.invoke("How many faces are in /data/t1.jpg?")
    assert [call["name"] for call in answer.tool_calls] == ["count_faces"]  # type: ignore[attr-defined]
    assert isinstance(answer.tool_calls[0]["args"], dict)  # type: ignore[attr-defined]
    assert answer.response_metadata["finish_reason"] == "tool_calls"


def test_langchain_streams_a_named_tool_call(server: LocalServer) -> None:
    model = _langchain(server).bind_tools([count_faces, transcribe], tool_choice="count_faces")
    chunks = list(model.stream("How many faces are in /data/t1.jpg?"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk  # type: ignore[assignment]
    assert [call["name"] for call in merged.tool_calls] == ["count_faces"]  # type: ignore[attr-defined]


def test_langchain_auto_tool_choice_answer_parses(server: LocalServer) -> None:
    """Whether the 135M model calls a tool on its own is not guaranteed; the answer must parse either way, and any
    call it makes names an offered tool or is reported as it was written."""
    answer = _langchain(server).bind_tools([count_faces, transcribe]).invoke("How many faces are in /data/t1.jpg?")
    assert isinstance(answer, AIMessage)
    assert answer.tool_calls or answer.content
    assert answer.invalid_tool_calls == []


def test_response_format_on_transformers_is_a_400_that_names_the_runtime(
    server: LocalServer, http: httpx.Client
) -> None:
    response = http.post("/v1/chat/completions", json=_chat(server, response_format={"type": "json_object"}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format" and "llama.cpp" in error["message"]


# ---------------------------------------------------------------- process lifecycle (keep last: stops the server)


def test_a_second_start_loads_the_cached_copy_and_answers_alike(
    server: LocalServer, server_home: Path, http: httpx.Client
) -> None:
    cached = list((server_home / "cache" / "llm").glob("SmolLM2-135M-Instruct-*/model.safetensors"))
    assert len(cached) == 1 and cached[0].stat().st_size > 500_000_000  # fp32 weights
    payload = _chat(server, max_tokens=16, temperature=0)
    expected = http.post("/v1/chat/completions", json=payload).json()["choices"][0]["message"]["content"]
    with LocalServer(startup_timeout_s=600, settings=_settings(server_home)) as second:
        assert second.log_path is not None
        assert "from its dequantized copy" in second.log_path.read_text()
        with httpx.Client(base_url=second.root_url, timeout=300, trust_env=False) as client:
            answer = client.post("/v1/chat/completions", json=payload).json()["choices"][0]["message"]["content"]
    assert answer == expected


def test_a_missing_model_path_fails_before_spawning(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        LocalServer(tmp_path / "no-such-model")


def test_a_model_that_cannot_load_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ServiceError, match="could not load its model"):
        LocalServer(folder, startup_timeout_s=300).start()


def test_stop_ends_the_process(server: LocalServer) -> None:
    root = server.root_url
    server.stop()
    assert server.pid is None
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{root}/health", timeout=2, trust_env=False)
