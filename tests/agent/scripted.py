"""A scripted tool-calling chat model for the graph's wiring tests, and a small real tool to call.

``ScriptedChatModel`` answers each call with the next scripted message (or raises the scripted exception), binds
tools like a real tool-calling model, and records every message list it was sent, so tests can check exactly what
would have left the machine. It is the model's stand-in only: the graph, tools, cache and router under test are
real.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from pydantic import Field

from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.types import FaceMark, Finding
from tools.media import load_image


class ScriptedChatModel(BaseChatModel):
    """Replies with ``script`` in order; an ``Exception`` in the script is raised instead."""

    script: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[list[str]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound_tools.append([tool.name for tool in tools])
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        if not self.script:
            raise AssertionError("the scripted model was called more often than scripted")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        message = step if isinstance(step, AIMessage) else AIMessage(content=str(step))
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def _llm_type(self) -> str:
        return "scripted"


def call(name: str, args: dict[str, Any], call_id: str = "call_1") -> AIMessage:
    """A tool-calling reply."""
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


class CountingBrightnessTool:
    """A real measurement (mean brightness of an image's centre) as a tool, counting how often it really runs."""

    def __init__(self) -> None:
        self.runs = 0

    def measure(self, media: str) -> Finding:
        self.runs += 1
        image = load_image(media)
        height, width = image.shape[:2]
        centre = image[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]
        level = float(np.mean(centre))
        label = "bright" if level > 127 else "dark"
        mark = FaceMark(1, 0.0, [width / 4, height / 4, 3 * width / 4, 3 * height / 4], [], [f"mean {level:.0f}"])
        facts = {"mean_level": round(level, 1), "people": [{"person": 1, "position": "center", "label": label}]}
        return Finding(
            "measure_brightness", media, label, f"the centre is {label} (mean level {level:.0f})", facts, [mark]
        )

    def tool(self) -> BaseTool:
        return finding_tool(
            name="measure_brightness",
            description="Measure how bright the centre of an image is.",
            run=self.measure,
            args_schema=MediaArgs,
            versions={"measure": "1"},
            examples=["How bright is this picture?", "Is the image dark or light?"],
        )
