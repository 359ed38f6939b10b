"""The encrypted identity search tool against a real ``mien serve gallery`` process, with real photos.

The independent check is the plaintext gallery: enrolled with the same photos, it must name the same people with
the same scores (CKKS error is ~1e-7). The router test uses the real MiniLM embedder over the real tools.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from agent.router import SemanticRouter
from evals import samples
from tools.encrypted import create_keys, open_encrypted_gallery
from tools.errors import ConfigError, CryptoError
from tools.langchain_tools import build_tools
from tools.langchain_tools.encrypted_identity import TOOL_NAME, identify_people_encrypted
from tools.media import save_image
from tools.recognition import PlainGallery
from tools.recognition.service import enroll_photos, identify_people
from tools.settings import get_settings
from tools.text_embedding import get_text_embedder

ASTRONAUT = "Eileen Collins"
HANKS = "Tom Hanks"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def gallery_server(tmp_path: Path) -> Iterator[str]:
    """``mien serve gallery`` in its own process, with its own home (it never sees the client's keys)."""
    port = _free_port()
    env = {**os.environ, "MIEN_HOME": str(tmp_path / "server-home")}
    store = tmp_path / "server-home" / "gallery.sqlite"
    command = [sys.executable, "-m", "agent.cli", "serve", "gallery", "--store", str(store), "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                errors = process.stderr.read().decode() if process.stderr and process.poll() is not None else ""
                raise AssertionError(f"gallery server did not start: {errors[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture()
def photos(tmp_path: Path) -> dict[str, Path]:
    """Enrollment photos, and probes that are other versions of them (mirrored, darker)."""
    astronaut = samples.astronaut()
    hanks = cv2.cvtColor(cv2.imread(str(samples.tom_hanks_path())), cv2.COLOR_BGR2RGB)
    return {
        "astronaut": save_image(tmp_path / "astronaut.png", astronaut),
        "astronaut-probe": save_image(tmp_path / "astronaut-mirrored.png", np.ascontiguousarray(astronaut[:, ::-1])),
        "hanks": save_image(tmp_path / "hanks.png", hanks),
        "hanks-probe": save_image(tmp_path / "hanks-darker.png", (hanks * 0.7).astype(np.uint8)),
    }


def _configure(monkeypatch: pytest.MonkeyPatch, url: str | None, keys: Path) -> None:
    if url is not None:
        monkeypatch.setenv("MIEN_ENCRYPTED_SERVER_URL", url)
    monkeypatch.setenv("MIEN_ENCRYPTED_KEYS_DIR", str(keys))
    get_settings.cache_clear()


@pytest.mark.slow
def test_the_tool_names_each_person_as_the_plaintext_gallery_does_and_says_it_is_certified(
    gallery_server: str, photos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "owner-keys"
    create_keys(keys)
    _configure(monkeypatch, gallery_server, keys)
    encrypted = open_encrypted_gallery(keys, server_url=gallery_server, store_path=None)
    plain = PlainGallery(tmp_path / "plain.sqlite")
    for gallery in (encrypted, plain):
        enroll_photos(gallery, ASTRONAUT, [photos["astronaut"]])
        enroll_photos(gallery, HANKS, [photos["hanks"]])

    astronaut = identify_people_encrypted(str(photos["astronaut-probe"]))
    hanks = identify_people_encrypted(str(photos["hanks-probe"]))

    assert astronaut.tool == TOOL_NAME
    assert astronaut.label == ASTRONAUT and hanks.label == HANKS
    assert astronaut.facts["enrolled"] == 2
    for finding, probe in ((astronaut, photos["astronaut-probe"]), (hanks, photos["hanks-probe"])):
        [person] = finding.facts["people"]
        _, [expected] = identify_people(plain, probe)
        assert person["label"] == expected.name
        assert person["score"] == pytest.approx(round(expected.score, 3), abs=1.5e-3)
        assert person["score"] >= finding.facts["threshold"]
        assert person["certified"] == "top1"  # two people, 128-d: the bound certifies the best match
        assert "certified" in person["certificate"]
        assert "1 of 1 answers certified" in finding.summary
        assert finding.marks  # boxes for the visual prompt


@pytest.mark.slow
def test_a_stranger_is_unknown_and_the_answer_is_certified(
    gallery_server: str, photos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "owner-keys"
    create_keys(keys)
    _configure(monkeypatch, gallery_server, keys)
    enroll_photos(open_encrypted_gallery(keys, server_url=gallery_server, store_path=None), HANKS, [photos["hanks"]])
    finding = identify_people_encrypted(str(photos["astronaut-probe"]))
    [person] = finding.facts["people"]
    assert finding.label == "unknown" and person["label"] == "unknown"
    assert person["score"] < finding.facts["threshold"]
    # One template, fully scored: the best score is the exhaustive search's ("top1"), so the rejection is certain.
    assert person["certified"] == "top1" and person["certificate"].startswith("certified")


def test_without_a_server_the_tool_says_how_to_configure_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photos: dict[str, Path]
) -> None:
    monkeypatch.delenv("MIEN_ENCRYPTED_SERVER_URL", raising=False)
    _configure(monkeypatch, None, tmp_path / "keys")
    with pytest.raises(ConfigError, match="MIEN_ENCRYPTED_SERVER_URL"):
        identify_people_encrypted(str(photos["astronaut"]))


def test_without_keys_the_tool_refuses_and_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photos: dict[str, Path]
) -> None:
    keys = tmp_path / "no-keys-here"
    _configure(monkeypatch, "http://127.0.0.1:9", keys)
    with pytest.raises(CryptoError, match="no encryption keys"):
        identify_people_encrypted(str(photos["astronaut"]))
    assert not keys.exists()


@pytest.mark.slow
def test_the_router_sends_encrypted_gallery_questions_to_the_encrypted_tool() -> None:
    tools = build_tools(get_settings())
    assert TOOL_NAME in [tool.name for tool in tools]
    router = SemanticRouter(tools, get_text_embedder().encode)
    media = {"photo.jpg": {"image"}}

    def called(question: str) -> list[str]:
        return [call["name"] for call in router.plan(question, list(media), media).tool_calls]

    for question in ("Find this face in our encrypted gallery.", "Search the encrypted gallery for her."):
        assert called(question)[0] == TOOL_NAME, (question, router.scores(question))
    assert called("Who is this?") == ["identify_people"]
