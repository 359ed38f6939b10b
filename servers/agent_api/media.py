"""From a chat request to the agent's turn: the question, and the media files it is about (kept in the data folder).

The question is the text of the last user message. The media are those of every user message, in order and
without repeats (chat front-ends resend the whole conversation; the same bytes land in the same upload file).
Inline bytes are stored with ``DataFolder.store`` (size and type checked, unreadable files refused); references
must name files inside the data folder. Remote URLs are not fetched: the server reads nothing it was not given.
"""

from __future__ import annotations

from dataclasses import dataclass

from servers.agent_api.protocol import AgentChatRequest, AgentMessage, ContentPart
from servers.data_folder import DataFolder, StoredMedia, decode_base64
from tools.errors import ConfigError


@dataclass(frozen=True)
class Turn:
    question: str
    media: list[StoredMedia]


def turn_of(request: AgentChatRequest, folder: DataFolder) -> Turn:
    users = [message for message in request.messages if message.role == "user"]
    if not users:
        raise ConfigError("the request has no user message to answer")
    question = text_of(users[-1]).strip()
    if not question:
        raise ConfigError("the last user message has no text: ask a question about the media")
    stored: dict[str, StoredMedia] = {}
    for message_index, message in enumerate(users):
        parts = message.content if isinstance(message.content, list) else []
        for part_index, part in enumerate(parts):
            item = part_media(part, folder, f"messages[{message_index}].content[{part_index}]")
            if item is not None:
                stored.setdefault(str(item.path), item)
    if not stored:
        raise ConfigError(
            "no media in the request: attach an image_url, video_url, input_audio or file part (base64 data, or "
            "a file reference inside the data folder)"
        )
    return Turn(question, list(stored.values()))


def text_of(message: AgentMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "\n".join(part.text or "" for part in message.content or [] if part.type == "text")


def part_media(part: ContentPart, folder: DataFolder, where: str) -> StoredMedia | None:
    """The media file a content part carries or names (None for text)."""
    if part.type == "text":
        return None
    if part.type in ("image_url", "video_url"):
        url = part.image_url if part.type == "image_url" else part.video_url
        if url is None:
            raise ConfigError(f"{where}: a {part.type} part needs {part.type}.url")
        return from_url(url.url, folder, where)
    if part.type == "input_audio":
        if part.input_audio is None:
            raise ConfigError(f"{where}: an input_audio part needs input_audio.data")
        return folder.store(decode_base64(part.input_audio.data, where), where)
    file = part.file
    if file is None or (file.file_data is None and file.file_id is None):
        raise ConfigError(f"{where}: a file part needs file.file_data (base64) or file.file_id (a file reference)")
    if file.file_data is not None:
        return folder.store(decode_base64(file.file_data, where), file.filename or where)
    return folder.media(str(file.file_id))


def from_url(url: str, folder: DataFolder, where: str) -> StoredMedia:
    if url.startswith("data:"):
        return folder.store(decode_base64(url, where), where)
    if url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{where}: remote URLs are not fetched; send the bytes as a base64 data: URL or name a file in the data "
            "folder"
        )
    return folder.media(url)
