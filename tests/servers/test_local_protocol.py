"""The embedded server's request schemas, tool-call parsing, stop sequences, prompt rendering and response shapes.

No model is loaded here: these are the pure parts. Responses are read back with ``langchain_openai.ChatOpenAI``
over an in-memory HTTP transport, so the check is that LangChain's own parser understands what the server writes.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from PIL import Image
from pydantic import ValidationError

from servers.local.app import create_app
from servers.local.generation import StopSequenceFilter
from servers.local.loading import ModelSource
from servers.local.prompting import (
    IMAGE_PLACEHOLDER,
    count_images,
    example_call,
    forced_call_stop,
    messages_as_text,
    tool_choice_prefix,
)
from servers.local.protocol import ChatCompletionRequest, ErrorResponse, FinishReason, Usage
from servers.local.responses import AnswerFormat, completion_events, completion_response
from servers.local.tool_calls import ToolCallStreamSplitter, parse_tool_calls, tool_calls_finished
from tools.errors import ConfigError

COUNT_FACES = {
    "type": "function",
    "function": {
        "name": "count_faces",
        "description": "Count the faces in an image file.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
}


def _data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _request(**fields: object) -> ChatCompletionRequest:
    payload: dict[str, object] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    payload.update(fields)
    return ChatCompletionRequest.model_validate(payload)


# ---------------------------------------------------------------- requests


def test_request_accepts_string_and_part_list_content(astronaut: np.ndarray) -> None:
    request = _request(
        messages=[
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Who is this?"},
                    {"type": "image_url", "image_url": {"url": _data_url(astronaut[:64, :64]), "detail": "low"}},
                ],
            },
        ],
        max_completion_tokens=12,
        stop="END",
        seed=3,
    )
    assert count_images(request) == 1
    assert request.requested_max_tokens == 12
    assert request.stop_sequences == ["END"]


def test_request_ignores_unknown_fields() -> None:
    request = _request(presence_penalty=0.5, user="someone", parallel_tool_calls=False)
    assert request.model == "m"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("data:image/png;base64,@@@not-base64@@@", "not valid base64"),
        ("data:image/png;base64," + base64.b64encode(b"plain text, not pixels").decode(), "readable image"),
        ("data:image/png,rawdata", "base64 encoded"),
        ("ftp://example.org/face.jpg", "http(s) URL or a data:image"),
    ],
)
def test_bad_image_urls_are_refused_with_the_reason(url: str, expected: str) -> None:
    content = [{"type": "image_url", "image_url": {"url": url}}]
    with pytest.raises(ValidationError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        _request(messages=[{"role": "user", "content": content}])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tool_choice": {"type": "function", "function": {"name": "blur"}}, "tools": [COUNT_FACES]}, "not among"),
        ({"tool_choice": "required"}, "tool_choice needs tools"),
        ({"n": 2}, "n must be 1"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "at most 4"),
        ({"temperature": 3.0}, "less than or equal to 2"),
        ({"messages": []}, "at least 1"),
        ({"messages": [{"role": "tool", "content": "42"}]}, "tool_call_id"),
        ({"messages": [{"role": "narrator", "content": "hi"}]}, "role"),
    ],
)
def test_invalid_requests_are_refused(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        _request(**fields)


def test_tool_choice_none_disables_tools() -> None:
    assert _request(tools=[COUNT_FACES]).tools_enabled
    assert not _request(tools=[COUNT_FACES], tool_choice="none").tools_enabled


# ---------------------------------------------------------------- tool-call parsing


def test_a_well_formed_tool_call_becomes_a_call() -> None:
    parsed = parse_tool_calls('<tool_call>\n{"name": "count_faces", "arguments": {"path": "t1.jpg"}}\n</tool_call>')
    assert parsed.content is None
    assert [(c.function.name, json.loads(c.function.arguments)) for c in parsed.tool_calls] == [
        ("count_faces", {"path": "t1.jpg"})
    ]
    assert parsed.tool_calls[0].id.startswith("call_")


def test_several_calls_keep_their_order_and_the_text_before_them() -> None:
    text = (
        "Let me look.\n"
        '<tool_call>{"name": "count_faces", "arguments": {"path": "a.jpg"}}</tool_call>\n'
        '<tool_call>{"name": "transcribe", "arguments": "{\\"path\\": \\"a.wav\\"}"}</tool_call>\n'
        "Trailing words."
    )
    parsed = parse_tool_calls(text)
    assert parsed.content == "Let me look."
    assert [c.function.name for c in parsed.tool_calls] == ["count_faces", "transcribe"]
    assert json.loads(parsed.tool_calls[1].function.arguments) == {"path": "a.wav"}
    assert len({c.id for c in parsed.tool_calls}) == 2


def test_an_unclosed_final_call_is_still_read() -> None:
    parsed = parse_tool_calls('<tool_call>\n{"name": "count_faces", "arguments": {}}')
    assert [c.function.name for c in parsed.tool_calls] == ["count_faces"]
    assert parsed.tool_calls[0].function.arguments == "{}"


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "count_faces", "arguments": {<arguments as JSON>}}\n</tool_call>',
        '<tool_call>{"name": "count_faces", "arguments": 1}</tool_call>',
        '<tool_call>{"arguments": {"path": "a.jpg"}}</tool_call>',
        "  Plain answer, with spaces kept.\n",
    ],
)
def test_text_without_a_well_formed_call_is_returned_unchanged(text: str) -> None:
    parsed = parse_tool_calls(text)
    assert parsed.tool_calls == []
    assert parsed.content == text


def test_tool_calls_finished_once_other_text_follows_a_closed_call() -> None:
    call = '<tool_call>{"name": "count_faces", "arguments": {}}</tool_call>'
    assert not tool_calls_finished(call)
    assert not tool_calls_finished(call + "\n<tool")
    assert not tool_calls_finished(call + "\n<tool_call>{")
    assert tool_calls_finished(call + "\nThe answer")
    assert not tool_calls_finished("<tool_call>{broken}</tool_call> and more")


def test_stream_splitter_sends_text_at_once_and_the_call_at_the_end() -> None:
    text = 'Checking.<tool_call>{"name": "count_faces", "arguments": {"path": "x.jpg"}}</tool_call>'
    splitter = ToolCallStreamSplitter()
    sent = "".join(splitter.feed(character) for character in text)
    rest, calls = splitter.finish()
    assert sent == "Checking."
    assert rest == ""
    assert [c.function.name for c in calls] == ["count_faces"]


def test_stream_splitter_releases_a_false_alarm() -> None:
    text = "Use <tool> tags or <tool_call>not json</tool_call> here."
    splitter = ToolCallStreamSplitter()
    pieces = [splitter.feed(text[i : i + 3]) for i in range(0, len(text), 3)]
    rest, calls = splitter.finish()
    assert calls == []
    assert "".join(pieces) + rest == text
    assert "".join(pieces).startswith("Use <tool> tags or ")


# ---------------------------------------------------------------- stop sequences


def test_stop_sequence_split_across_pieces_ends_the_text_before_it() -> None:
    stop = StopSequenceFilter(["###", "\nUser:"])
    out = [stop.feed(piece) for piece in ["Hello", " wor", "ld\nUs", "er: more"]]
    assert "".join(out) + stop.finish() == "Hello world"
    assert stop.stopped


def test_text_that_only_resembles_a_stop_sequence_is_released() -> None:
    stop = StopSequenceFilter(["###"])
    out = [stop.feed(piece) for piece in ["a #", "# b", " ##"]]
    assert "".join(out) + stop.finish() == "a ## b ##"
    assert not stop.stopped


# ---------------------------------------------------------------- prompt rendering


def test_tools_go_into_the_system_prompt_with_a_valid_example_call() -> None:
    request = _request(
        messages=[{"role": "system", "content": "You are Mien."}, {"role": "user", "content": "Count faces."}],
        tools=[COUNT_FACES],
    )
    messages = messages_as_text(request)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("You are Mien.\n\n")
    assert '"name": "count_faces"' in messages[0]["content"]
    assert '<tool_call>\n{"name": "count_faces", "arguments": {"path": "..."}}\n</tool_call>' in messages[0]["content"]
    assert example_call(request.tools[0]) == {"name": "count_faces", "arguments": {"path": "..."}}  # type: ignore[index]


def test_earlier_calls_and_results_are_written_as_hermes_tags(astronaut: np.ndarray) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "count_faces", "arguments": '{"path": "a.jpg"}'}}
    request = _request(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Faces?"},
                    {"type": "image_url", "image_url": {"url": _data_url(astronaut[:32, :32])}},
                ],
            },
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "content": "6", "tool_call_id": "call_1"},
        ],
        tools=[COUNT_FACES],
        tool_choice="none",
    )
    messages = messages_as_text(request)
    assert messages == [
        {"role": "user", "content": f"Faces?\n{IMAGE_PLACEHOLDER}"},
        {
            "role": "assistant",
            "content": '<tool_call>\n{"name": "count_faces", "arguments": {"path": "a.jpg"}}\n</tool_call>',
        },
        {"role": "user", "content": "<tool_response>\n6\n</tool_response>"},
    ]


def test_tool_choice_starts_the_reply_with_a_call() -> None:
    named = _request(tools=[COUNT_FACES], tool_choice={"type": "function", "function": {"name": "count_faces"}})
    assert tool_choice_prefix(named) == '<tool_call>\n{"name": "count_faces", "arguments": {'
    assert forced_call_stop(named) == ["</tool_call>"]
    required = _request(tools=[COUNT_FACES], tool_choice="required")
    assert tool_choice_prefix(required) == '<tool_call>\n{"name": "'
    assert forced_call_stop(required) == []
    assert tool_choice_prefix(_request(tools=[COUNT_FACES])) == ""


# ---------------------------------------------------------------- responses, as LangChain reads them


def _langchain_client(handler: httpx.MockTransport) -> ChatOpenAI:
    return ChatOpenAI(
        base_url="http://mien.test/v1",
        api_key="none",  # type: ignore[arg-type]
        model="SmolLM2-135M-Instruct",
        http_client=httpx.Client(transport=handler),
        max_retries=0,
    )


def _usage() -> Usage:
    return Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)


def test_langchain_reads_a_tool_call_response() -> None:
    answer = AnswerFormat(model="SmolLM2-135M-Instruct", tools_enabled=True, assistant_prefix="<tool_call>\n")
    generated = '{"name": "count_faces", "arguments": {"path": "t1.jpg"}}\n</tool_call>'
    body = completion_response(answer, generated, "stop", _usage()).model_dump()
    assert body["choices"][0]["finish_reason"] == "tool_calls"

    client = _langchain_client(httpx.MockTransport(lambda request: httpx.Response(200, json=body)))
    message = client.invoke([HumanMessage("How many faces are in t1.jpg?")])
    assert isinstance(message, AIMessage)
    assert [(call["name"], call["args"]) for call in message.tool_calls] == [("count_faces", {"path": "t1.jpg"})]
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] == 15


def _events(answer: AnswerFormat, pieces: list[str], finish: FinishReason) -> bytes:
    async def produce() -> AsyncIterator[str]:
        for piece in pieces:
            yield piece

    async def collect() -> list[str]:
        return [event async for event in completion_events(answer, produce(), lambda: (finish, _usage()))]

    return "".join(asyncio.run(collect())).encode()


def test_langchain_reads_a_streamed_answer_and_a_streamed_tool_call() -> None:
    answer = AnswerFormat(model="SmolLM2-135M-Instruct", tools_enabled=True, include_usage=True)
    pieces = ["Sure", ". <tool", '_call>{"name": "count_faces", ', '"arguments": {"path": "t1.jpg"}}</tool_call>']
    stream = _events(answer, pieces, "stop")
    assert stream.endswith(b"data: [DONE]\n\n")

    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"})
    )
    chunks = list(_langchain_client(transport).stream([HumanMessage("Faces in t1.jpg?")]))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk  # type: ignore[assignment]
    assert merged.content == "Sure. "
    assert [(call["name"], call["args"]) for call in merged.tool_calls] == [("count_faces", {"path": "t1.jpg"})]  # type: ignore[attr-defined]
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] == 5


def test_a_tool_result_conversation_serialises_into_a_valid_request() -> None:
    """What LangChain sends after a tool ran (assistant tool_calls + tool message) parses as our request."""
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        body = completion_response(AnswerFormat(model="SmolLM2-135M-Instruct"), "Six.", "stop", _usage())
        return httpx.Response(200, json=body.model_dump())

    call = {"name": "count_faces", "args": {"path": "t1.jpg"}, "id": "call_1", "type": "tool_call"}
    history = [
        HumanMessage("How many faces are in t1.jpg?"),
        AIMessage(content="", tool_calls=[call]),  # type: ignore[list-item]
        ToolMessage(content="6", tool_call_id="call_1"),
    ]
    reply = _langchain_client(httpx.MockTransport(handler)).invoke(history)
    assert reply.content == "Six."
    request = ChatCompletionRequest.model_validate(sent[0])
    assert [m.role for m in request.messages] == ["user", "assistant", "tool"]
    assert request.messages[1].tool_calls is not None
    assert request.messages[1].tool_calls[0].function.name == "count_faces"


def test_errors_have_openai_shape() -> None:
    from servers.local.errors import model_not_found, server_busy

    body = model_not_found("gpt-4o", "SmolLM2-135M-Instruct").to_response().model_dump()
    assert body["error"]["code"] == "model_not_found"
    assert "SmolLM2-135M-Instruct" in body["error"]["message"]
    assert ErrorResponse.model_validate(server_busy(3).to_response().model_dump()).error.code == "queue_full"


# ---------------------------------------------------------------- where the model comes from (nothing loaded)


def test_the_default_model_is_the_packaged_smollm2_gguf() -> None:
    source = ModelSource.resolve(None)
    assert source.served_name == "SmolLM2-135M-Instruct"
    assert source.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (source.folder / source.gguf_file).stat().st_size > 90_000_000


def test_a_transformers_folder_is_served_under_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "my-chat-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert ModelSource.resolve(folder) == ModelSource(folder, None, "my-chat-model")
    assert ModelSource.resolve(folder, "renamed").served_name == "renamed"


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ({}, "no config.json and no .gguf file"),
        ({"a.gguf": "x", "b.gguf": "y"}, "2 .gguf files"),
        ({"weights.bin": "x"}, "no config.json"),
    ],
)
def test_unusable_model_folders_are_refused(tmp_path: Path, layout: dict[str, str], expected: str) -> None:
    for name, text in layout.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        ModelSource.resolve(tmp_path)


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    weights = tmp_path / "model.bin"
    weights.write_text("x")
    with pytest.raises(ConfigError, match=r"not a \.gguf file"):
        ModelSource.resolve(weights)


# ---------------------------------------------------------------- HTTP errors, before any model is needed


@pytest.fixture(scope="module")
def unloaded_app() -> Iterator[TestClient]:
    """The real app without its lifespan: routes and validation answer, the model is never loaded."""
    yield TestClient(create_app())


def test_health_says_loading_before_the_model_is_ready(unloaded_app: TestClient) -> None:
    response = unloaded_app.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "loading", "model": "Qwen2.5-Coder-0.5B-Instruct"}  # the embedded default


@pytest.mark.parametrize(
    ("body", "status", "message", "param"),
    [
        (b"{not json", 400, "the request body is not valid JSON", None),
        (json.dumps({"model": "m"}).encode(), 400, "invalid request: messages: Field required", "messages"),
        (
            json.dumps(
                {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [COUNT_FACES], "n": 3}
            ).encode(),
            400,
            "invalid request: this server generates one choice per request; n must be 1",
            None,
        ),
        (
            json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            404,
            "gpt-4o",
            "model",
        ),
    ],
)
def test_bad_requests_get_openai_errors(
    unloaded_app: TestClient, body: bytes, status: int, message: str, param: str | None
) -> None:
    response = unloaded_app.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error["message"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_unknown_routes_and_methods_get_openai_errors(unloaded_app: TestClient) -> None:
    assert unloaded_app.get("/v2/anything").json()["error"]["code"] == "404"
    assert unloaded_app.get("/v1/chat/completions").json()["error"]["code"] == "405"
