"""The embedded default as a real server process: Qwen2.5-Coder-0.5B-Instruct on llama.cpp.

One request with a tool offered must come back as a parsed OpenAI tool call (the model writes it as bare JSON or
in ``<tool_call>`` tags; the server reads both); one with a JSON schema must come back as JSON the schema allows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from servers.local import LocalServer
from servers.local.serving import ServiceLimits
from tools.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    home = tmp_path_factory.mktemp("llama-home")
    limits = ServiceLimits(threads=1, max_queue=2, default_max_tokens=64, runtime="auto", context_tokens=2048)
    settings = Settings(home=home, cache_dir=Path.home() / ".cache" / "mien", llm_embedded="qwen2.5-coder-0.5b")
    with LocalServer(limits=limits, startup_timeout_s=600, settings=settings) as running:
        yield running


def test_the_default_is_qwen_on_llama_cpp(server: LocalServer) -> None:
    assert server.model_name == "Qwen2.5-Coder-0.5B-Instruct"
    assert server.runtime == "llama.cpp"
    assert server.log_path is not None and "with llama.cpp" in server.log_path.read_text()


def test_a_native_tool_call_comes_back_parsed(server: LocalServer) -> None:
    @tool
    def find_faces(media: str) -> str:
        """Find and count the faces in an image or video file."""
        return ""

    chat = ChatOpenAI(base_url=server.base_url, api_key="none", model=server.model_name, temperature=0, max_retries=0)
    reply = chat.bind_tools([find_faces]).invoke("How many faces are in t1.jpg? Use the tool.")
    assert isinstance(reply, AIMessage)
    assert [call["name"] for call in reply.tool_calls] == ["find_faces"], reply
    assert reply.tool_calls[0]["args"].get("media", "").endswith("t1.jpg")


def test_a_json_schema_answer_is_json_the_schema_allows(server: LocalServer) -> None:
    schema = {
        "type": "object",
        "properties": {"label": {"enum": ["happy", "sad"]}, "evidence": {"type": "array", "items": {"enum": ["F1"]}}},
        "required": ["label", "evidence"],
    }
    body = {
        "model": server.model_name,
        "temperature": 0,
        "max_tokens": 40,
        "messages": [{"role": "user", "content": "F1: person 1 smiles broadly. Is person 1 happy or sad?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    }
    response = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=300, trust_env=False)
    assert response.status_code == 200, response.text
    answer = json.loads(response.json()["choices"][0]["message"]["content"])
    assert answer["label"] in ("happy", "sad") and set(answer["evidence"]) <= {"F1"}
