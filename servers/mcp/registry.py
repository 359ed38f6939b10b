"""Every Mien capability as an MCP tool, built from the same LangChain tools the agent uses (one registry).

Each tool's MCP input schema is the JSON schema of its pydantic argument model; arguments are validated against
that model here (the SDK forwards whatever JSON the client sent). Paths in arguments are a stranger's paths:
``media``, ``target`` and any other path-like argument must name files inside the data folder, the arguments a tool
declares as outputs (``write_args``) must lie inside it (by default ``outputs/<file>.<tool>.<suffix>``). The run
then happens under an ``AccessPolicy`` (``tools.access``) holding those reads and the data folder as the only place
to write, so a path a tool computes itself is held to the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ValidationError

from servers.data_folder import DataFolder
from tools.access import AccessPolicy, looks_like_path, policy_scope, resolved
from tools.errors import ConfigError, NotFoundError
from tools.langchain_tools import CAPABILITIES, build_tools
from tools.langchain_tools.base import tool_write_args
from tools.langchain_tools.types import Finding
from tools.settings import Settings

READ_PATHS = ("media", "target")  # argument fields naming files a tool reads (other path-like strings are too)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class McpTool:
    """One capability as offered over MCP: its name, description, argument model and the function behind it."""

    name: str
    description: str
    args: type[BaseModel]
    run: Callable[..., tuple[str, dict[str, Any]]]
    write_args: tuple[str, ...] = ()

    def input_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema()

    @classmethod
    def of(cls, tool: BaseTool) -> McpTool:
        if not isinstance(tool, StructuredTool) or tool.func is None or not isinstance(tool.args_schema, type):
            raise ConfigError(f"tool {tool.name} is not a structured tool with an argument model")
        args = cast(type[BaseModel], tool.args_schema)
        return cls(tool.name, tool.description, args, tool.func, tuple(tool_write_args(tool)))


def mien_tools(settings: Settings, names: tuple[str, ...] = CAPABILITIES) -> dict[str, McpTool]:
    """The MCP tools of the capabilities ``names`` (default: every capability the agent has), by tool name."""
    return {tool.name: McpTool.of(tool) for tool in build_tools(settings, names)}


def validated_arguments(tool: McpTool, arguments: dict[str, Any] | None, folder: DataFolder) -> dict[str, Any]:
    """``arguments`` checked against the tool's model, with its paths confined to the data folder."""
    try:
        values = tool.args.model_validate(arguments or {}).model_dump()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise ConfigError(f"invalid arguments for {tool.name}: {problems}") from error
    for key, value in values.items():
        if key in tool.write_args or not isinstance(value, str):
            continue
        if key in READ_PATHS or looks_like_path(value):
            values[key] = str(folder.existing(value))
    media = Path(str(values.get("media", "media")))
    for key in tool.write_args:
        if key in tool.args.model_fields:
            suffix = media.suffix.lower() if media.suffix.lower() in IMAGE_SUFFIXES else ".mp4"
            name = f"{media.stem}.{tool.name}" + ("" if key.endswith("_dir") else suffix)
            values[key] = str(folder.output(values.get(key), name))
    return values


def run_policy(tool: McpTool, values: dict[str, Any], folder: DataFolder, settings: Settings) -> AccessPolicy:
    """What the run may touch: the files its arguments read; the data folder (and Mien's own caches) otherwise."""
    reads = [values[key] for key in values if key not in tool.write_args and isinstance(values[key], str)]
    media = tuple(resolved(value) for value in reads if Path(value).is_absolute())
    own = [settings.home, settings.cache_dir, *([settings.model_dir] if settings.model_dir else [])]
    return AccessPolicy(media, tuple(resolved(path) for path in [folder.root, *own]), (folder.root,))


def call_tool(
    tools: dict[str, McpTool], name: str, arguments: dict[str, Any] | None, folder: DataFolder, settings: Settings
) -> Finding:
    """Run tool ``name``; bad names and arguments raise ``MienError`` subclasses that say what is wrong."""
    tool = tools.get(name)
    if tool is None:
        raise NotFoundError(f"no tool named {name!r}; the tools are: {', '.join(sorted(tools))}")
    values = validated_arguments(tool, arguments, folder)
    with policy_scope(run_policy(tool, values, folder, settings)):
        _, artifact = tool.run(**values)
    return Finding.from_dict(artifact)
