"""The perception overview as server-sent events, on a real photo and on real speech, against the real server:
progress per stage while it runs, then what was found, with a note saying why each empty part is empty."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

from tests.web.conftest import WebServer

pytestmark = pytest.mark.slow


def _events(web: httpx.Client, url: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    with web.stream("GET", url, timeout=600) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name is not None:
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def _upload(web: httpx.Client, name: str, body: bytes) -> dict[str, Any]:
    response = web.post("/api/uploads", params={"name": name}, content=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_photo_overview_names_its_empty_parts(web: httpx.Client, astronaut: np.ndarray) -> None:
    ok, png = cv2.imencode(".png", cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    assert ok
    item = _upload(web, "astronaut.png", png.tobytes())
    events = _events(web, f"/api/media/{item['id']}/overview")
    stages = {data["stage"] for name, data in events if name == "progress"}
    assert {"identities", "emotions", "transcript", "spotting", "timeline"} <= stages
    name, overview = events[-1]
    assert name == "done"
    assert [(p["person"], p["name"]) for p in overview["identities"]] == [(1, "unknown")]
    assert overview["transcript"] == [] and overview["transcript_note"] == "the file has no audio"
    assert overview["intervals"] == [] and overview["spotting_note"] == "spotting needs a video"
    assert (overview["emotion_model"], overview["au_source"]) == ("fer-mini-xception", "mesh-geometry")
    picture = web.get(overview["timeline_url"])
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    # Asked again, the stored overview comes back at once, without running anything.
    again = _events(web, f"/api/media/{item['id']}/overview")
    assert [name for name, _ in again] == ["done"] and again[0][1] == overview


def test_a_speech_overview_has_the_words_with_times_and_no_faces(
    web: httpx.Client, tmp_path: Path, web_server: WebServer
) -> None:
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), "The launch was loud, but I felt calm."], check=True)
    item = _upload(web, "speech.wav", wav.read_bytes())
    assert (item["kind"], item["has_audio"]) == ("audio", True)
    name, overview = _events(web, f"/api/media/{item['id']}/overview")[-1]
    assert name == "done"
    words = " ".join(segment["text"] for segment in overview["transcript"]).lower()
    assert "launch" in words and "calm" in words
    assert overview["transcript"][0]["start_s"] < 1.0
    assert overview["identity_note"] == "no picture to look at"
    assert overview["timeline_url"] is None
