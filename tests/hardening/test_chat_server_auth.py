"""The embedded chat server as a real process behind API keys (``python -m servers.local --guard``): OpenAI-shaped
401/403/413 before the model is even loaded; and ``mien keys`` add / list / revoke, keeping only hashes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.cli import main
from servers.security import KeyStore
from tests.hardening.processes import ServerProcess, free_port, server_env, start_server
from tools.settings import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    home = tmp_path_factory.mktemp("chat-auth")
    store = KeyStore(home / "api-keys.json")
    return home, store.add("agent-box", ["chat"]), store.add("gallery-only", ["identify"])


@pytest.fixture(scope="module")
def chat_server(keys: tuple[Path, str, str]) -> Iterator[ServerProcess]:
    home = keys[0]
    port = free_port()
    env = server_env(home, llm_embedded="smollm2-135m", llm_runtime="transformers", llm_max_body_mb="1")
    args = ["-m", "servers.local", "--guard", "--port", str(port), "--runtime", "transformers"]
    server = start_server(args, env, home / "chat.log", port=port, ready_status=(200, 503))  # 503: still loading
    try:
        yield server
    finally:
        server.stop()


def test_the_chat_server_wants_a_chat_key(chat_server: ServerProcess, keys: tuple[Path, str, str]) -> None:
    _, chat_key, gallery_key = keys
    url = chat_server.url + "/v1/models"
    missing = httpx.get(url, timeout=30)
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"  # what OpenAI clients expect
    wrong = httpx.get(url, headers={"authorization": f"Bearer {gallery_key}"}, timeout=30)
    assert wrong.status_code == 403 and wrong.json()["error"]["type"] == "permission_error"
    assert "needs 'chat'" in wrong.json()["error"]["message"]
    served = httpx.get(url, headers={"authorization": f"Bearer {chat_key}"}, timeout=30)
    assert served.status_code == 200 and served.json()["data"][0]["id"]
    huge = httpx.post(
        chat_server.url + "/v1/chat/completions",
        content=b"x" * (2 * 2**20),
        headers={"authorization": f"Bearer {chat_key}", "content-type": "application/json"},
        timeout=30,
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "BodyTooLarge"


def test_mien_keys_adds_lists_and_revokes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIEN_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert main(["keys", "add", "desk", "--scope", "enroll", "--json"]) == 0
        made = json.loads(capsys.readouterr().out)
        assert made["key"].startswith("mien_") and made["scopes"] == ["enroll"]
        assert main(["keys", "add", "desk", "--scope", "identify"]) == 2  # the name is taken
        assert "exists already" in capsys.readouterr().err
        assert main(["keys", "add", "x", "--scope", "root"]) == 2
        assert "choose from identify, enroll, chat, agent" in capsys.readouterr().err
        assert main(["keys", "list", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [(k["name"], k["scopes"]) for k in listed] == [("desk", ["enroll"])]
        stored = (tmp_path / "api-keys.json").read_text()
        assert made["key"] not in stored and made["key"].split("_")[2] not in stored  # only a salted hash
        assert (tmp_path / "api-keys.json").stat().st_mode & 0o777 == 0o600
        store = KeyStore(tmp_path / "api-keys.json")
        assert store.verify(made["key"]) is not None and store.verify(made["key"] + "x") is None
        assert main(["keys", "revoke", "desk"]) == 0
        assert store.verify(made["key"]) is None
        assert main(["keys", "revoke", "desk"]) == 2
    finally:
        get_settings.cache_clear()
