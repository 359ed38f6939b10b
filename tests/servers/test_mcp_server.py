"""`mien serve mcp` as a real subprocess, driven by the official MCP SDK's own client, over stdio and over HTTP.

The photo is skimage's astronaut (one face), written into the server's data folder; the tools are Mien's real
ones. Bad input (a missing file, a path outside the data folder, a wrong type, an unknown tool) must come back as an
MCP error result naming the problem, and the same server must then still answer.
"""

from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from PIL import Image

from evals import samples
from tools.langchain_tools import CAPABILITIES
from tools.media import save_image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {
    "find_faces",
    "identify_people",
    "read_emotions",
    "transcribe_speech",
    "deidentify_media",
    "cloak_faces",
    "identify_people_encrypted",
    "read_body_language",
    "spot_expressions",
    "detect_attacks",
}


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("mcp")
    data = base / "data"
    save_image(data / "astronaut.png", samples.astronaut())
    (base / "outside.png").write_bytes((data / "astronaut.png").read_bytes())
    return {
        **os.environ,
        "MIEN_HOME": str(base / "home"),
        "MIEN_DATA_DIR": str(data),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }


def texts(result: Any) -> list[str]:
    return [block.text for block in result.content if block.type == "text"]


def images(result: Any) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(b.data))) for b in result.content if b.type == "image"]


async def refusals(client: Client, outside: str) -> dict[str, Any]:
    """Every kind of bad call, then a good one on the same connection."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "missing": ("find_faces", {"media": "never-uploaded.png"}),
        "outside": ("find_faces", {"media": outside}),
        "escape": ("find_faces", {"media": "../outside.png"}),
        "wrong_type": ("find_faces", {"media": 3}),
        "no_args": ("find_faces", {}),
        "bad_choice": ("deidentify_media", {"media": "astronaut.png", "mode": "paint"}),
        "write_outside": ("deidentify_media", {"media": "astronaut.png", "output": outside + ".blur.png"}),
        "unknown_tool": ("no_such_tool", {}),
    }
    results = {key: await client.call_tool(name, args) for key, (name, args) in calls.items()}
    results["after"] = await client.call_tool("find_faces", {"media": "astronaut.png"})
    return results


def test_stdio_lists_every_tool_finds_the_face_and_refuses_bad_input(server_env: dict[str, str]) -> None:
    data = Path(server_env["MIEN_DATA_DIR"])
    outside = str(data.parent / "outside.png")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent.cli", "serve", "mcp"], env=server_env, cwd=str(ROOT)
    )

    async def session() -> tuple[Any, Any, dict[str, Any]]:
        async with Client(params) as client:
            listed = await client.list_tools()
            faces = await client.call_tool("find_faces", {"media": "astronaut.png"})
            return listed, faces, await refusals(client, outside)

    listed, faces, bad = anyio.run(session)

    schemas = {tool.name: tool.input_schema for tool in listed.tools}
    assert set(schemas) >= TOOLS and len(schemas) == len(CAPABILITIES)  # every capability, as others land too
    assert schemas["find_faces"]["required"] == ["media"]
    assert schemas["deidentify_media"]["properties"]["mode"]["enum"] == ["blur", "mask", "pixelate"]
    assert faces.is_error is False
    assert faces.structured_content["label"] == "1 person"
    assert faces.structured_content["facts"]["count"] == 1
    assert '"count":1' in texts(faces)[0]
    (frame,) = images(faces)
    assert frame.size == (512, 512)  # the whole astronaut photo, annotated (not a crop)

    messages = {key: " ".join(texts(result)) for key, result in bad.items()}
    for key in ("missing", "outside", "escape", "wrong_type", "no_args", "bad_choice", "write_outside", "unknown_tool"):
        assert bad[key].is_error is True, key
    assert messages["missing"].startswith("NotFoundError: never-uploaded.png: no such file in the data folder")
    assert messages["outside"].startswith(f"AccessDeniedError: {outside}: outside the data folder")
    assert "outside the data folder" in messages["escape"]
    assert (
        messages["wrong_type"] == "ConfigError: invalid arguments for find_faces: media: Input should be a valid string"
    )
    assert messages["no_args"] == "ConfigError: invalid arguments for find_faces: media: Field required"
    assert "mode: Input should be 'blur', 'mask' or 'pixelate'" in messages["bad_choice"]
    assert messages["write_outside"].startswith("AccessDeniedError:")
    assert "no tool named 'no_such_tool'" in messages["unknown_tool"]
    assert bad["after"].is_error is False and bad["after"].structured_content["label"] == "1 person"
    assert not Path(outside + ".blur.png").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_server(server_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "agent.cli", "serve", "mcp", "--transport", "http", "--port", str(port)]
    process = subprocess.Popen(command, env=server_env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the MCP server did not start within 120 s")
        yield f"{url}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_http_deidentifies_into_the_data_folder_and_returns_the_image(
    http_server: str, server_env: dict[str, str]
) -> None:
    data = Path(server_env["MIEN_DATA_DIR"])

    async def session() -> tuple[Any, Any, Any]:
        async with Client(http_server) as client:
            listed = await client.list_tools()
            hidden = await client.call_tool("deidentify_media", {"media": "astronaut.png", "mode": "mask"})
            missing = await client.call_tool("read_emotions", {"media": "gone.mp4"})
            return listed, hidden, missing

    listed, hidden, missing = anyio.run(session)

    assert {tool.name for tool in listed.tools} >= TOOLS
    assert hidden.is_error is False, texts(hidden)
    written = data / "outputs" / "astronaut.deidentify_media.png"
    assert hidden.structured_content["files"] == [str(written)]
    assert written.is_file()
    (picture,) = images(hidden)
    assert picture.size == (512, 512)
    assert picture.tobytes() == Image.open(written).tobytes()  # the written file itself comes back
    assert hidden.structured_content["facts"]["faces_hidden"] >= 1
    assert missing.is_error is True and "NotFoundError: gone.mp4" in texts(missing)[0]
