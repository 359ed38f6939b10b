"""Whose fault a failure is: the chat model's endpoint, a tool the answer needed, or a bug in Mien.

``mien ask`` used to exit 0 when a tool had failed, and to report any exception around a model request as "the
chat model failed" — also a bug in the prompt code. Here: ``endpoint_failure`` says whether an exception came from
talking to the endpoint (only those become ``ServiceError``, exit 8; anything else is a bug, exit 70 with its
traceback under ``--debug``); ``failed_tools`` finds the tools whose evidence the answer lacks, and
``raise_for_answer`` turns an answer's problems into the exit code that says them (``ToolFailedError``, exit 9).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx
import openai
from langchain_core.exceptions import OutputParserException

from agent.answer import Answer
from agent.state import ToolRun
from tools.errors import ServiceError, ToolFailedError

# Exceptions a request to an OpenAI-compatible endpoint raises when the endpoint (not our code) is at fault:
# unreachable, slow, refusing, or answering something unusable.
ENDPOINT_ERRORS: tuple[type[BaseException], ...] = (
    ServiceError,
    openai.APIError,
    httpx.HTTPError,
    OutputParserException,
    ConnectionError,
    TimeoutError,
)


def endpoint_failure(error: BaseException) -> bool:
    """Whether ``error``, raised by a chat model request, is the endpoint's failure (else it is a bug of ours)."""
    return isinstance(error, ENDPOINT_ERRORS)


def failed_tools(runs: Sequence[ToolRun]) -> list[ToolRun]:
    """The failed runs whose evidence is missing: a failure that a later run of the same tool on the same file
    made good (a model retrying with fixed arguments) is not counted."""
    failed: dict[tuple[str, str], ToolRun] = {}
    for run in runs:
        key = (run["tool"], str(run["args"].get("media", "")))
        if run["error"]:
            failed[key] = run
        else:
            failed.pop(key, None)
    return list(failed.values())


def tool_failure_message(runs: Sequence[ToolRun]) -> str:
    """One line naming each failed tool, its file and why."""
    parts = []
    for run in runs:
        media = Path(str(run["args"].get("media", ""))).name
        reason = str(run["error"]).removeprefix(f"{run['tool']} failed: ")
        parts.append(f"{run['tool']}{f' on {media}' if media else ''}: {reason}")
    noun = "a tool the answer needed" if len(runs) == 1 else f"{len(runs)} tools the answer needed"
    return f"{noun} failed, so the answer lacks its evidence: " + "; ".join(parts)


def raise_for_answer(answer: Answer) -> None:
    """Raise what went wrong in ``answer``: ``ToolFailedError`` (exit 9) when a needed tool failed — saying also
    when the model failed — else ``ServiceError`` (exit 8) when only the model failed; nothing when all went well."""
    failed = failed_tools(answer.tools)
    if failed:
        message = tool_failure_message(failed)
        if answer.error:
            message += f"; and no explanation: {answer.error}"
        raise ToolFailedError(message)
    if answer.error:
        raise ServiceError(answer.error)
