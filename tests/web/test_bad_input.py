"""Bad input on the web surface, each against the real server process: a clear message with the right status,
nothing written outside the data folder (and no partial upload left inside it), and the server keeps serving."""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from servers.web.uploads import safe_stem
from tests.web.conftest import UPLOAD_LIMIT_BYTES, WebServer

EXAMPLE = Path(__file__).parents[2] / "examples" / "interview.mp4"
NEVER_UPLOADED = "0123456789abcdef0123456789abcdef"


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


def _error(response: httpx.Response) -> str:
    body = response.json()
    return str(body["error"]["message"])


def _uploads(server: WebServer) -> list[str]:
    folder = server.home / "data" / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_stored_names_are_safe() -> None:
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("my clip (final).mp4") == "my_clip_final"
    assert safe_stem("..") == "upload"
    assert safe_stem("; rm -rf ~.mp4") == "rm_-rf"


def test_an_image_upload_is_stored_under_a_generated_name(
    web_server: WebServer, web: httpx.Client, astronaut: np.ndarray
) -> None:
    response = web.post("/api/uploads", params={"name": "../../../../evil.mp4"}, content=_png(astronaut))
    assert response.status_code == 201, response.text
    item = response.json()
    assert (item["kind"], item["width"], item["height"]) == ("image", 512, 512)
    assert item["name"] == "evil.mp4"  # the browser's name is a label only, without its folders
    assert re.fullmatch(r"[0-9a-f]{32}", item["id"])
    stored = web_server.home / "data" / "uploads" / item["id"]
    assert [p.name for p in stored.iterdir()] == ["evil.png"]  # the extension of what it is, not what it was called
    assert list(web_server.home.parent.rglob("evil*")) == [stored / "evil.png"]
    assert web.get(item["url"]).content == _png(astronaut)


def test_a_file_over_the_limit_is_413(web_server: WebServer, web: httpx.Client) -> None:
    before = _uploads(web_server)
    body = EXAMPLE.read_bytes() * (UPLOAD_LIMIT_BYTES // EXAMPLE.stat().st_size + 2)
    response = web.post("/api/uploads", params={"name": "big.mp4"}, content=body)
    assert response.status_code == 413
    assert f"limited to {UPLOAD_LIMIT_BYTES} bytes" in _error(response)
    assert _uploads(web_server) == before  # no partial file, no temporary left behind


def test_a_file_over_the_limit_without_a_length_is_413(web_server: WebServer, web: httpx.Client) -> None:
    before = _uploads(web_server)
    chunk = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (1 << 20)

    def chunks():  # chunked transfer: the server learns the size only by counting
        for _ in range(UPLOAD_LIMIT_BYTES // len(chunk) + 2):
            yield chunk

    response = web.post("/api/uploads", params={"name": "big.mp4"}, content=chunks())
    assert response.status_code == 413
    assert "over the upload limit" in _error(response)
    assert _uploads(web_server) == before


def test_a_file_of_another_type_is_415_whatever_its_name(web_server: WebServer, web: httpx.Client) -> None:
    before = _uploads(web_server)
    response = web.post("/api/uploads", params={"name": "clip.mp4"}, content=b"#!/bin/sh\necho not a video\n")
    assert response.status_code == 415
    assert "clip.mp4 is not a video, image or audio file" in _error(response)
    assert _uploads(web_server) == before


def test_an_unreadable_video_is_422_with_the_decoder_s_reason(web_server: WebServer, web: httpx.Client) -> None:
    before = _uploads(web_server)
    cut = EXAMPLE.read_bytes()[:3000]  # an mp4 cut short before its first frame
    response = web.post("/api/uploads", params={"name": "cut.mp4"}, content=cut)
    assert response.status_code == 422
    message = _error(response)
    assert message.startswith("cut.mp4 cannot be read: corrupt, truncated or unsupported media")
    assert str(web_server.home) not in message  # the server's own paths stay private
    assert _uploads(web_server) == before


@pytest.mark.parametrize("path", [f"/api/media/{NEVER_UPLOADED}", f"/media/{NEVER_UPLOADED}", "/api/media/x%2E%2Ey"])
def test_a_file_never_uploaded_is_404(web: httpx.Client, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 404
    assert "upload it first" in _error(response)


def test_an_unknown_route_is_404_in_the_same_shape(web: httpx.Client) -> None:
    response = web.get("/api/media/..%2F..%2Fetc")
    assert response.status_code == 404
    assert _error(response) == "no such page or file"


def test_a_malformed_question_is_400_naming_the_field(web: httpx.Client) -> None:
    response = web.post("/api/ask", json={"media_id": NEVER_UPLOADED, "question": "x", "thread_id": "../x"})
    assert response.status_code == 400
    assert _error(response).startswith("invalid request: thread_id: String should match pattern")


def test_a_question_about_a_file_never_uploaded_is_404_before_any_stream(web: httpx.Client) -> None:
    response = web.post("/api/ask", json={"media_id": NEVER_UPLOADED, "question": "How does she feel?"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert _error(response) == f"no uploaded file has the id {NEVER_UPLOADED!r}; upload it first"


@pytest.mark.parametrize("path", ["/etc/hostname", "../../../../etc/hostname", "~/.bashrc"])
def test_opening_a_path_outside_the_data_folder_is_403(web_server: WebServer, web: httpx.Client, path: str) -> None:
    response = web.post("/api/open", json={"path": path})
    assert response.status_code == 403
    assert "outside the data folder" in _error(response)


def test_a_link_out_of_the_data_folder_is_refused(web_server: WebServer, web: httpx.Client) -> None:
    for folder in (web_server.home / "frames", web_server.home / "data"):
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "escape.jpg").is_symlink():
            os.symlink("/etc/hostname", folder / "escape.jpg")
    assert web.get("/files/frames/escape.jpg").status_code == 403
    response = web.post("/api/open", json={"path": "escape.jpg"})  # data/escape.jpg, a link to /etc/hostname
    assert response.status_code == 403
    assert "outside the data folder" in _error(response)


def test_only_pictures_of_the_data_folder_are_served(web_server: WebServer, web: httpx.Client) -> None:
    assert web.get("/files/threads.sqlite").status_code == 403  # inside the data folder, but not a picture folder
    assert web.get("/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd").status_code in (403, 404)
    assert web.get("/files/frames/nothing.jpg").status_code == 404


def test_a_file_in_the_data_folder_can_be_opened(web_server: WebServer, web: httpx.Client) -> None:
    inbox = web_server.home / "data" / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "interview.mp4").write_bytes(EXAMPLE.read_bytes())
    response = web.post("/api/open", json={"path": "inbox/interview.mp4"})
    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["duration_s"]) == ("video", 10.0)


def test_nothing_was_written_outside_the_data_folder_and_the_server_still_serves(
    web_server: WebServer, web: httpx.Client
) -> None:
    assert list(web_server.outside.iterdir()) == []
    assert sorted(p.name for p in web_server.home.parent.iterdir()) == ["home", "outside", "server.log"]
    assert not [name for name in _uploads(web_server) if name.startswith(".upload-")]
    assert web.get("/health").json() == {"status": "ok"}
    assert web_server.process.poll() is None
