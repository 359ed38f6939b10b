"""The privacy mode, applied at the one place where anything leaves for the model: the outgoing messages.

``local``: messages go as they are (the model is trusted, e.g. on this machine). ``deidentified``: every image has
its faces found and hidden (``tools.deidentify.hide_faces``, with its second search for anything face-like left),
every enrolled name in any text — the question, tool results, earlier answers, tool-call arguments — is replaced
by the person's track number ("Person 2") or, for someone not on screen, by "someone", and audio parts are dropped
(no voice is ever sent). Because it filters the messages themselves, no prompt or tool can bypass it.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, BaseMessage
from PIL import Image

from agent.state import PrivacyMode
from tools.deidentify import hide_faces, replace_names
from tools.errors import ConfigError
from tools.langchain_tools.types import Finding

OFF_SCREEN_NAME = "someone"
# Tools whose findings name people (plaintext gallery, encrypted gallery).
IDENTITY_TOOLS = ("identify_people", "identify_people_encrypted")
JPEG_QUALITY = 90


def names_on_screen(findings: Iterable[Finding]) -> dict[str, int]:
    """Name → track number for every person the identification tool named."""
    mapping: dict[str, int] = {}
    for finding in findings:
        if finding.tool not in IDENTITY_TOOLS:
            continue
        for person in finding.facts.get("people", []):
            if person.get("label") and person["label"] != "unknown":
                mapping[str(person["label"])] = int(person["person"])
    return mapping


class PrivacyGuard:
    """Filters outgoing messages for a privacy mode.

    ``on_screen`` maps names to track numbers; ``enrolled`` are all the gallery's names (those not on screen
    become "someone"). First names of multi-word names are replaced too, when written with a capital letter.
    """

    def __init__(self, mode: PrivacyMode, on_screen: Mapping[str, int], enrolled: Iterable[str] = ()) -> None:
        self.mode = mode
        self.on_screen = dict(on_screen)
        for name, track in list(self.on_screen.items()):
            for part in name.split()[:-1] if len(name.split()) > 1 else []:
                self.on_screen.setdefault(part, track)
        others = {name for name in enrolled if name not in self.on_screen}
        others |= {part for name in others for part in name.split() if len(name.split()) > 1 and len(part) > 2}
        words = sorted((re.escape(name) for name in others if name.strip()), key=len, reverse=True)
        self._others = re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)") if words else None

    @property
    def active(self) -> bool:
        return self.mode == "deidentified"

    def text(self, text: str) -> str:
        """``text`` with names replaced (unchanged in ``local`` mode)."""
        if not self.active or not text:
            return text
        text = replace_names(text, self.on_screen)
        return self._others.sub(OFF_SCREEN_NAME, text) if self._others is not None else text

    def image(self, image_rgb: np.ndarray) -> np.ndarray:
        """``image_rgb`` (RGB uint8, (H, W, 3)) with every face hidden (unchanged in ``local`` mode)."""
        return hide_faces(image_rgb).image if self.active else image_rgb

    def messages(self, messages: Iterable[BaseMessage]) -> list[BaseMessage]:
        """Copies of ``messages`` fit to send under this mode."""
        if not self.active:
            return list(messages)
        filtered: list[BaseMessage] = []
        for message in messages:
            update: dict[str, Any] = {"content": self._content(message.content)}
            if isinstance(message, AIMessage) and message.tool_calls:
                update["tool_calls"] = [{**call, "args": self._value(call["args"])} for call in message.tool_calls]
            filtered.append(message.model_copy(update=update))
        return filtered

    def _content(self, content: str | list[Any]) -> str | list[Any]:
        if isinstance(content, str):
            return self.text(content)
        parts: list[Any] = []
        for part in content:
            if isinstance(part, str):
                parts.append(self.text(part))
            elif part.get("type") == "text":
                parts.append({**part, "text": self.text(part["text"])})
            elif part.get("type") == "image_url":
                parts.append({**part, "image_url": {**part["image_url"], "url": self._image_url(part)}})
            # audio and any other part type is dropped: no voice leaves in this mode
        return parts

    def _image_url(self, part: dict[str, Any]) -> str:
        url = str(part["image_url"]["url"])
        if not url.startswith("data:image/"):
            raise ConfigError("deidentified mode sends only inline images it has checked, not image URLs")
        return image_data_url(self.image(decode_data_url(url)))

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self._value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._value(item) for item in value]
        return value


def image_data_url(image_rgb: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    """An RGB uint8 image (H, W, 3) as a ``data:image/jpeg;base64,`` URL, as OpenAI-compatible servers take."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image_rgb, dtype=np.uint8)).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_data_url(url: str) -> np.ndarray:
    """The RGB uint8 image (H, W, 3) inside a base64 data URL."""
    payload = url.partition(",")[2]
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
