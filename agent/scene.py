"""The CER ``scene_text`` modality: the served vision model describes the scene of a key frame in words.

The words are then read by the text modality like a transcript. Only a model that accepts images can do this;
the embedded text-only model cannot, and the caller is told so instead of getting an invented description.
"""

from __future__ import annotations

import numpy as np
from langchain_core.messages import HumanMessage, SystemMessage

from agent.model import ChatEndpoint
from agent.privacy import image_data_url
from agent.untrusted import with_rule
from tools.settings import Settings

SCENE_PROMPT = (
    "Describe this scene in two sentences for someone who cannot see it: where it is, what is happening, "
    "and the mood it conveys. Do not name anyone."
)


def describe_scene(endpoint: ChatEndpoint, image_rgb: np.ndarray, settings: Settings) -> str | None:
    """Two sentences about the scene in ``image_rgb`` (H, W, 3) from a vision endpoint; None if it has no vision."""
    if not endpoint.vision:
        return None
    messages = [
        SystemMessage(content=with_rule("You describe images briefly and factually.")),
        HumanMessage(
            content=[
                {"type": "text", "text": SCENE_PROMPT},
                {"type": "image_url", "image_url": {"url": image_data_url(image_rgb)}},
            ]
        ),
    ]
    reply = endpoint.chat_model(settings).invoke(messages)
    text = reply.content if isinstance(reply.content, str) else " ".join(str(part) for part in reply.content)
    return text.strip() or None
