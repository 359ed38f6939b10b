"""The llama.cpp runtime: the real Qwen2.5-Coder-0.5B GGUF (assembled from its PyPI parts), in this process.

Checked: the GGUF's own chat template renders tools as Qwen was trained on them; constrained decoding gives JSON
that the schema allows (cited ids from an enum only); the fast grammar filter gives the same tokens as
llama-cpp-python's full-vocabulary grammar check; a repeated prompt prefix is not evaluated again; calls the model
writes as bare JSON are read as tool calls. The fast tests need no model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from servers.local.generation import SamplingSettings
from servers.local.gguf_parts import QWEN_CODER_0_5B, assemble
from servers.local.llama_engine import LlamaChatModel, json_schema_of, load_llama_model
from servers.local.loading import ModelSource
from servers.local.protocol import ChatCompletionRequest
from servers.local.tool_calls import parse_tool_calls

FIND_FACES = {
    "type": "function",
    "function": {
        "name": "find_faces",
        "description": "Find and count the faces in an image or video.",
        "parameters": {"type": "object", "properties": {"media": {"type": "string"}}, "required": ["media"]},
    },
}
SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "evidence": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"enum": ["F1", "F2"]}},
    },
    "required": ["label", "evidence"],
}


def test_response_formats_map_to_schemas() -> None:
    assert json_schema_of(None) is None and json_schema_of({"type": "text"}) is None
    assert json_schema_of({"type": "json_object"}) == {}
    assert json_schema_of({"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}}) == SCHEMA
    assert json_schema_of({"type": "json_object", "schema": SCHEMA}) == SCHEMA  # llama.cpp's own spelling


def test_bare_json_calls_of_offered_tools_are_calls() -> None:
    names = ("find_faces",)
    bare = parse_tool_calls('{"name": "find_faces", "arguments": {"media": "t1.jpg"}}', names)
    assert bare.content is None and [c.function.name for c in bare.tool_calls] == ["find_faces"]
    assert json.loads(bare.tool_calls[0].function.arguments) == {"media": "t1.jpg"}
    fenced = parse_tool_calls('Sure:\n```json\n{"name": "find_faces", "arguments": {}}\n```', names)
    assert [c.function.name for c in fenced.tool_calls] == ["find_faces"]
    # JSON that is not a call of an offered tool stays text.
    other = '{"name": "Eileen", "age": 3}'
    assert parse_tool_calls(other, names).content == other and not parse_tool_calls(other, names).tool_calls
    assert parse_tool_calls('{"name": "find_faces", "arguments": {}}').tool_calls == []  # no names offered


@pytest.fixture(scope="module")
def qwen() -> Iterator[LlamaChatModel]:
    source = ModelSource.resolve(assemble(QWEN_CODER_0_5B), QWEN_CODER_0_5B.served_name)
    yield load_llama_model(source, threads=1, context_tokens=1024)


def _request(**fields: object) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": "q", "temperature": 0, **fields})


@pytest.mark.slow
def test_the_gguf_template_renders_tools_the_qwen_way(qwen: LlamaChatModel) -> None:
    rendered = qwen.render(_request(messages=[{"role": "user", "content": "Count the faces."}], tools=[FIND_FACES]))
    assert rendered.text.startswith("<|im_start|>system\n")
    assert "<tools>\n" + json.dumps(FIND_FACES, ensure_ascii=False) in rendered.text
    assert rendered.text.endswith("<|im_start|>user\nCount the faces.<|im_end|>\n<|im_start|>assistant\n")
    ids = qwen.tokenize("<|im_start|>user")
    assert len(ids) == 2  # the special token is one token, not its characters


@pytest.mark.slow
def test_constrained_decoding_fills_the_schema_and_matches_the_full_grammar_check(qwen: LlamaChatModel) -> None:
    content = "F1: person 1: Happiness 0.93. F2: person 1: AU12 lip corner puller 2.1. Which facts show she is happy?"
    request = _request(
        messages=[{"role": "user", "content": content}],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}},
    )
    prompt = qwen.tokenize(qwen.render(request).text)
    grammar = qwen.grammar(request.response_format)
    pieces: list[str] = []
    outcome = qwen.generate(prompt, SamplingSettings(max_new_tokens=40), pieces.append, lambda: False, grammar)
    answer = json.loads("".join(pieces))
    assert set(answer) == {"label", "evidence"} and 1 <= len(answer["evidence"]) <= 2
    assert set(answer["evidence"]) <= {"F1", "F2"}
    assert outcome.finish_reason == "stop"
    # llama-cpp-python's own grammar sampling (every token of the vocabulary checked) picks the same tokens.
    grammar.reset()
    reference = "".join(
        qwen.llm.detokenize([token]).decode("utf-8", "replace")
        for token, _ in zip(qwen.llm.generate(prompt, temp=0.0, grammar=grammar), range(6), strict=False)
    )
    assert "".join(pieces).startswith(reference)


@pytest.mark.slow
def test_a_repeated_prefix_is_not_evaluated_again(qwen: LlamaChatModel) -> None:
    evaluated: list[int] = []
    original = qwen.llm.eval

    def counting(tokens: list[int]) -> None:
        evaluated.append(len(tokens))
        original(tokens)

    system = {"role": "system", "content": "You count faces. " * 30}
    first = qwen.tokenize(qwen.render(_request(messages=[system, {"role": "user", "content": "One?"}])).text)
    second = qwen.tokenize(qwen.render(_request(messages=[system, {"role": "user", "content": "Two?"}])).text)
    qwen.llm.eval = counting
    try:
        qwen.generate(first, SamplingSettings(max_new_tokens=1), lambda _: None, lambda: False)
        evaluated.clear()
        qwen.generate(second, SamplingSettings(max_new_tokens=1), lambda _: None, lambda: False)
    finally:
        qwen.llm.eval = original
    shared = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    assert shared > 100
    assert evaluated[0] == len(second) - shared  # only the new tail of the prompt


def test_the_embedded_server_command_names_model_and_runtime() -> None:
    """What ``LocalServer`` would start, for the default and for the old default (no process is spawned)."""
    from servers.local.process import LocalServer
    from tools.settings import Settings

    default = LocalServer(settings=Settings(llm_embedded="qwen2.5-coder-0.5b", llm_runtime="auto"))
    command = default._command(3)
    assert command[command.index("--model") + 1].endswith("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    assert command[command.index("--runtime") + 1] == "llama.cpp"
    assert default.model_name == "Qwen2.5-Coder-0.5B-Instruct"
    old = LocalServer(settings=Settings(llm_embedded="smollm2-135m", llm_runtime="transformers"))
    command = old._command(3)
    assert command[command.index("--model") + 1].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert command[command.index("--runtime") + 1] == "transformers"
    assert old.model_name == "SmolLM2-135M-Instruct"
