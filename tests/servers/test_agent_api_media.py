"""The data folder and request-to-turn rules the MCP and agent servers share, in process (no server, no model).

Media are real: skimage's astronaut as PNG and JPEG, a clip composed from it, espeak-ng speech.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evals import clips
from servers.agent_api.media import turn_of
from servers.agent_api.protocol import AgentChatRequest
from servers.data_folder import DataFolder, sniff_suffix
from tools.errors import (
    AccessDeniedError,
    ConfigError,
    MediaError,
    MediaTooLargeError,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from tools.media import save_image


@pytest.fixture()
def folder(tmp_path: Path, astronaut: np.ndarray) -> DataFolder:
    save_image(tmp_path / "data" / "astronaut.png", astronaut)
    return DataFolder(tmp_path / "data", max_bytes=2_000_000)


def test_references_stay_inside_the_folder(folder: DataFolder, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes((folder.root / "astronaut.png").read_bytes())
    (folder.root / "link.png").symlink_to(tmp_path / "secret.png")
    assert folder.media("astronaut.png").info.kind == "image"
    assert folder.media(str(folder.root / "astronaut.png")).reference == "astronaut.png"
    for escape in ("../secret.png", str(tmp_path / "secret.png"), "link.png", "file:///etc/passwd"):
        with pytest.raises(AccessDeniedError, match="outside the data folder"):
            folder.existing(escape)
    with pytest.raises(NotFoundError, match=re.escape("gone.mp4: no such file in the data folder")):
        folder.existing("gone.mp4")
    with pytest.raises(NotFoundError):
        folder.existing("")
    assert folder.output(None, "clip.deidentify_media.mp4") == folder.root / "outputs" / "clip.deidentify_media.mp4"
    with pytest.raises(AccessDeniedError):
        folder.output("../out.png", "x.png")


def test_uploads_are_typed_by_content_stored_once_and_refused_when_unreadable(
    folder: DataFolder, astronaut: np.ndarray, tmp_path: Path
) -> None:
    jpeg = save_image(tmp_path / "a.jpg", astronaut).read_bytes()
    first = folder.store(jpeg, "upload.bin")  # the name says nothing; the bytes say JPEG
    again = folder.store(jpeg, "same bytes")
    assert first.path == again.path and first.path.suffix == ".jpg" and first.path.parent == folder.root / "uploads"
    assert (first.info.kind, first.info.width, first.info.height) == ("image", 512, 512)
    with pytest.raises(UnsupportedMediaTypeError, match=re.escape("notes.pdf: not an image, video or audio file")):
        folder.store(b"%PDF-1.4 " * 100, "notes.pdf")
    with pytest.raises(MediaTooLargeError, match="over the upload limit"):
        folder.store(b"\x89PNG\r\n\x1a\n" + bytes(2_000_000), "big.png")
    with pytest.raises(MediaError, match=re.escape("broken.mp4")):
        folder.store(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20, "broken.mp4")
    assert sorted(p.name for p in (folder.root / "uploads").iterdir()) == [first.path.name]  # nothing else kept


def test_sniffing_real_media(tmp_path: Path) -> None:
    clip = clips.pan_zoom_clip(tmp_path / "pan.mp4", seconds=1.0)
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "hello"], check=True)
    assert sniff_suffix(clip.read_bytes()[:64]) == ".mp4"
    assert sniff_suffix(wav.read_bytes()[:64]) == ".wav"
    assert sniff_suffix(b"GIF89a") is None


def request(*parts: dict[str, object], text: str = "how many people?") -> AgentChatRequest:
    return AgentChatRequest.model_validate(
        {"model": "mien-agent", "messages": [{"role": "user", "content": [{"type": "text", "text": text}, *parts]}]}
    )


def test_a_request_becomes_a_question_and_its_media(folder: DataFolder) -> None:
    png = base64.b64encode((folder.root / "astronaut.png").read_bytes()).decode("ascii")
    turn = turn_of(
        request(
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
            {"type": "file", "file": {"file_id": "astronaut.png"}},
            {"type": "input_audio", "input_audio": {"data": png, "format": "wav"}},  # same bytes: one upload
        ),
        folder,
    )
    assert turn.question == "how many people?"
    assert [item.reference for item in turn.media][1:] == ["astronaut.png"]
    assert len(turn.media) == 2 and turn.media[0].reference.startswith("uploads/")
    with pytest.raises(ConfigError, match="no media in the request"):
        turn_of(request(), folder)
    with pytest.raises(ConfigError, match="remote URLs are not fetched"):
        turn_of(request({"type": "image_url", "image_url": {"url": "http://example.com/x.png"}}), folder)
    with pytest.raises(MediaError, match="not valid base64"):
        turn_of(request({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}), folder)
    with pytest.raises(ConfigError, match="has no text"):
        turn_of(request({"type": "file", "file": {"file_id": "astronaut.png"}}, text=" "), folder)
