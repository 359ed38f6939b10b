"""Turning a plain ``(args) -> Finding`` function into a LangChain tool, the one way every adapter is built.

The tool answers with ``(content, artifact)``: the model reads ``Finding.content()`` (compact JSON, no images —
images go to the model in user messages, never in tool results), the agent keeps ``Finding.to_dict()``.
``metadata`` carries what the agent needs besides the schema: ``versions`` (the models behind the tool, part of the
evidence cache key) and ``examples`` (questions this tool answers, for the semantic router).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from tools.access import active_policy
from tools.langchain_tools.types import Finding
from tools.media.damage import DamageReport, collect_damage

ADAPTER_VERSION = "1"


class MediaArgs(BaseModel):
    """Every tool works on one media file in play."""

    media: str = Field(description="Path of the image, video or audio file to analyse.")


def finding_tool(
    name: str,
    description: str,
    run: Callable[..., Finding],
    args_schema: type[BaseModel],
    versions: Mapping[str, str] | Callable[[], Mapping[str, str]],
    examples: Sequence[str],
    prompt: str = "plain",
    kinds: Sequence[str] = ("image", "video"),
    write_args: Sequence[str] = (),
) -> BaseTool:
    """A LangChain tool calling ``run(**args)``.

    ``versions`` may be a function when they change at run time (a gallery being enrolled into). ``prompt`` names
    the reasoning prompt its evidence suits ("sovtp" for affect, "plain" otherwise); ``kinds`` the media it reads
    (image, video; audio for any file with an audio track). ``write_args`` names the arguments that are paths the
    tool writes (held to the output folders inside an agent's run, ``tools.access``; other path arguments are reads).
    """

    def call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
        policy = active_policy()
        if policy is not None:  # an agent's run: the call's paths are vetted before anything is opened
            policy.check_tool_args(name, kwargs, write_args)
        with collect_damage() as damage:
            finding = run(**kwargs)
        finding = with_damage_notes(finding, damage)
        return finding.content(), finding.to_dict()

    return StructuredTool.from_function(
        func=call,
        name=name,
        description=description,
        args_schema=args_schema,
        response_format="content_and_artifact",
        metadata={
            "versions": versions,
            "examples": list(examples),
            "prompt": prompt,
            "kinds": list(kinds),
            "write_args": list(write_args),
        },
    )


def with_damage_notes(finding: Finding, damage: Sequence[DamageReport]) -> Finding:
    """``finding`` saying that it rests on the readable part of a damaged file (the model and the user read it)."""
    worst: dict[tuple[str, str], DamageReport] = {}  # a file read twice can report its damage twice
    for report in damage:
        key = (str(report.path), report.stream)
        if key not in worst or report.severity > worst[key].severity:
            worst[key] = report
    notes = [report.message() for report in worst.values()]
    if not notes:
        return finding
    facts = {**finding.facts, "media_damage": notes}
    summary = f"{finding.summary} (from the readable part of a damaged file: {'; '.join(notes)})"
    return dataclasses.replace(finding, summary=summary, facts=facts)


def tool_versions(tool: BaseTool) -> dict[str, str]:
    """The model versions a tool's results depend on, now (only the adapter version for tools not built here)."""
    versions = (tool.metadata or {}).get("versions", {})
    return {"adapter": ADAPTER_VERSION, **dict(versions() if callable(versions) else versions)}


def tool_examples(tool: BaseTool) -> list[str]:
    """Questions the tool answers, for routing."""
    return list((tool.metadata or {}).get("examples", []))


def tool_prompt(tool: BaseTool) -> str:
    return str((tool.metadata or {}).get("prompt", "plain"))


def tool_media_kinds(tool: BaseTool) -> list[str]:
    """The media kinds (image, video, audio) the tool reads; any kind for tools not built here."""
    return list((tool.metadata or {}).get("kinds", ["image", "video", "audio"]))


def tool_write_args(tool: BaseTool) -> list[str]:
    """The arguments of ``tool`` that name files it writes (none for tools not built here)."""
    return list((tool.metadata or {}).get("write_args", []))
