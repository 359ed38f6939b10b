"""Turning an OpenAI chat request into the prompt text a local model's chat template expects.

Three things need translating:
- Image parts: the embedded server runs text-only causal LMs, so each image becomes the placeholder ``[image]``
  and the count is reported (response header ``X-Mien-Images-Dropped`` and a log warning).
- Tools: a template that renders ``tools`` itself gets them; otherwise (SmolLM2's template ignores them) a
  Hermes-style system prompt lists them as JSON schemas and asks for ``<tool_call>`` blocks, the format
  ``tool_calls.parse_tool_calls`` reads back. Earlier tool calls and tool results are written in the same format.
- tool_choice: ``required`` or a named function is enforced by starting the assistant's reply with the opening of a
  tool call (``assistant_prefix``), which the model then completes; a named function's call ends at its first
  ``</tool_call>`` (``forced_call_stop``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from servers.local.protocol import (
    ChatCompletionRequest,
    ChatMessage,
    ImagePart,
    NamedToolChoice,
    TextPart,
    ToolDefinition,
)
from servers.local.tool_calls import TOOL_CALL_CLOSE, TOOL_CALL_OPEN

IMAGE_PLACEHOLDER = "[image]"


@dataclass(frozen=True)
class RenderedPrompt:
    """The prompt text (ending with ``assistant_prefix``), and how many image parts were replaced."""

    text: str
    assistant_prefix: str
    images_dropped: int


def content_text(message: ChatMessage) -> str:
    """The message content as text; image parts become ``[image]``, parts are joined by newlines."""
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    pieces: list[str] = []
    for part in message.content:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        elif isinstance(part, ImagePart):
            pieces.append(IMAGE_PLACEHOLDER)
    return "\n".join(pieces)


def count_images(request: ChatCompletionRequest) -> int:
    return sum(len(message.image_parts()) for message in request.messages)


def hermes_tools_prompt(tools: list[ToolDefinition]) -> str:
    """A system prompt that lists ``tools`` and asks for ``<tool_call>`` blocks (Hermes function-calling format).

    The example call is a real one (the first tool, its parameters with neutral values): small models copy the
    example's form literally, so it must be valid JSON rather than a placeholder."""
    schemas = "\n".join(json.dumps(tool.model_dump(exclude_none=True), ensure_ascii=False) for tool in tools)
    return (
        "You can call functions to answer. Their signatures are JSON schemas inside <tools></tools>:\n"
        f"<tools>\n{schemas}\n</tools>\n"
        "To call a function, write one block per call, for example:\n"
        f"{TOOL_CALL_OPEN}\n{json.dumps(example_call(tools[0]), ensure_ascii=False)}\n{TOOL_CALL_CLOSE}\n"
        "Function results come back inside <tool_response></tool_response>. "
        "If no function is needed, answer in plain text."
    )


_EXAMPLE_VALUES: dict[str, Any] = {"number": 0, "integer": 0, "boolean": True, "array": [], "object": {}}


def example_call(tool: ToolDefinition) -> dict[str, Any]:
    """``{"name": ..., "arguments": {...}}`` for ``tool``, each parameter given a neutral value of its type."""
    properties = tool.function.parameters.get("properties", {})
    arguments: dict[str, Any] = {}
    for name, schema in properties.items() if isinstance(properties, dict) else ():
        kind = schema.get("type") if isinstance(schema, dict) else None
        arguments[name] = _EXAMPLE_VALUES.get(kind, "...") if isinstance(kind, str) else "..."
    return {"name": tool.function.name, "arguments": arguments}


def tool_choice_prefix(request: ChatCompletionRequest) -> str:
    """The start of the reply that forces a tool call, or "" when the model may choose."""
    choice = request.tool_choice
    if not request.tools_enabled:
        return ""
    if isinstance(choice, NamedToolChoice):
        # Opening the arguments object too keeps small models from writing a bare value as the arguments.
        return f'{TOOL_CALL_OPEN}\n{{"name": {json.dumps(choice.function.name)}, "arguments": {{'
    if choice == "required":
        return f'{TOOL_CALL_OPEN}\n{{"name": "'
    return ""


def forced_call_stop(request: ChatCompletionRequest) -> list[str]:
    """Stop sequences that end a forced call to one named function (one call is what was asked for)."""
    return [TOOL_CALL_CLOSE] if request.tools_enabled and isinstance(request.tool_choice, NamedToolChoice) else []


def _tool_call_text(message: ChatMessage) -> str:
    blocks = []
    for call in message.tool_calls or []:
        arguments = _arguments_object(call.function.arguments)
        payload = json.dumps({"name": call.function.name, "arguments": arguments}, ensure_ascii=False)
        blocks.append(f"{TOOL_CALL_OPEN}\n{payload}\n{TOOL_CALL_CLOSE}")
    return "\n".join(blocks)


def _arguments_object(arguments: str) -> Any:
    try:
        return json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        return arguments  # shown to the model as the string it was given


def messages_as_text(request: ChatCompletionRequest) -> list[dict[str, str]]:
    """Messages for a template that knows only ``role`` and string ``content``: tools go in the system prompt,
    tool calls and tool results become Hermes tags, ``developer`` becomes ``system``."""
    rendered: list[dict[str, str]] = []
    for message in request.messages:
        role = "system" if message.role == "developer" else message.role
        text = content_text(message)
        if message.role == "assistant" and message.tool_calls:
            text = "\n".join(piece for piece in (text, _tool_call_text(message)) if piece)
        elif message.role == "tool":
            role = "user"
            text = f"<tool_response>\n{text}\n</tool_response>"
        rendered.append({"role": role, "content": text})
    if request.tools_enabled and request.tools:
        tools_prompt = hermes_tools_prompt(request.tools)
        if rendered and rendered[0]["role"] == "system":
            rendered[0] = {"role": "system", "content": f"{rendered[0]['content']}\n\n{tools_prompt}"}
        else:
            rendered.insert(0, {"role": "system", "content": tools_prompt})
    return rendered


def messages_for_tool_template(request: ChatCompletionRequest) -> list[dict[str, Any]]:
    """Messages in the shape Hugging Face tool-aware templates expect (tool-call arguments as objects)."""
    rendered: list[dict[str, Any]] = []
    for message in request.messages:
        entry: dict[str, Any] = {
            "role": "system" if message.role == "developer" else message.role,
            "content": content_text(message),
        }
        if message.tool_calls:
            entry["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": _arguments_object(call.function.arguments)},
                }
                for call in message.tool_calls
            ]
        if message.tool_call_id:
            entry["tool_call_id"] = message.tool_call_id
        rendered.append(entry)
    return rendered


def render_prompt(tokenizer: Any, request: ChatCompletionRequest, *, template_takes_tools: bool) -> RenderedPrompt:
    """Apply the tokenizer's chat template to ``request`` and append the tool-choice prefix."""
    prefix = tool_choice_prefix(request)
    if template_takes_tools:
        tools = [tool.model_dump(exclude_none=True) for tool in request.tools or []] if request.tools_enabled else None
        text = tokenizer.apply_chat_template(
            messages_for_tool_template(request), tools=tools, tokenize=False, add_generation_prompt=True
        )
    else:
        text = tokenizer.apply_chat_template(messages_as_text(request), tokenize=False, add_generation_prompt=True)
    return RenderedPrompt(text=text + prefix, assistant_prefix=prefix, images_dropped=count_images(request))
