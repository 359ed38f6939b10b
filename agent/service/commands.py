"""Which ``mien`` commands run in the resident service when it runs, and running one there.

``mien ask`` and ``mien chat`` start the service on first use (``agent.service.lifecycle.service_session``). The
commands below are handed whole to a service that already runs, ready, with this process's settings and code, so
that this process imports nothing but the service's client (0.2 s, where the CLI with its models' libraries takes
3–4 s): ``mien ask`` (answered with the service's own session, ``agent.service.resident``), and the perception
commands, which never start the service (a chat model to find faces in one photo would cost more than it saves).
Anything else, or any doubt, and the command runs in this process as before; the output, warnings and exit code
are the same either way.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Literal, TextIO

from agent.service.cli_run import command_of
from agent.service.client import ServiceClient
from agent.service.lifecycle import find_service
from agent.service.paths import code_stamp, settings_fingerprint
from agent.service.protocol import RunRequest
from tools.errors import MienError
from tools.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["SERVICE_COMMANDS", "command_of", "main_in_service", "run_in_service", "service_client_for"]

# Commands whose cost is loading the perception models the service keeps (faces, mesh, expression, speech).
SERVICE_COMMANDS = frozenset(
    {"ask", "attack", "augment", "body", "cloak", "deidentify", "emotions", "faces", "gallery", "liveness", "spot"}
    | {"transcribe"}
)

# Asked for in-process behaviour: tracebacks (--debug) and help are answered here, without the service.
_LOCAL_FLAGS = frozenset({"--debug", "--help", "-h"})


def service_client_for(settings: Settings) -> ServiceClient | None:
    """A client of the running, ready service with these settings and this code, or None."""
    if settings.service == "off":
        return None
    found = find_service(settings)
    if found is None:
        return None
    client, status = found
    if (
        status.state != "ready"
        or status.settings_fingerprint != settings_fingerprint(settings)
        or status.code_stamp != code_stamp()
    ):
        client.close()
        return None
    return client


def run_in_service(args: Sequence[str], settings: Settings) -> int | None:
    """Run ``mien <args>`` in the running service and return its exit code; None when it should run here.

    A service that fails before the command starts leaves it to this process; one that fails mid-command is a
    ``ServiceError`` (the command may have written files, so it is not silently run twice).
    """
    command = command_of(args)
    if command not in SERVICE_COMMANDS or _LOCAL_FLAGS & set(args):
        return None
    if command == "ask" and any(arg == "--model" or arg.startswith("--model=") for arg in args):
        return None  # another endpoint: answered in this process, as `mien ask` does
    try:
        client = service_client_for(settings)
    except MienError as error:
        log.info("running here: the Mien service is unavailable (%s)", error)
        return None
    if client is None:
        return None
    request = RunRequest(
        argv=list(args),
        cwd=os.getcwd(),
        stdout_tty=sys.stdout.isatty(),
        stderr_tty=sys.stderr.isatty(),
        color_system=_color_system(),
        columns=max(20, min(1000, shutil.get_terminal_size().columns)),
    )
    try:
        return client.run(request, _writer(sys.stdout), _writer(sys.stderr))
    finally:
        client.close()


def main_in_service(args: list[str]) -> int | None:
    """``mien``'s exit code for ``args`` run by the resident service, or None to run them in this process.

    Printing the error line and choosing the exit code mirror ``agent.cli.app.main``, which this runs before (and
    without importing: it imports every command).
    """
    if command_of(args) not in SERVICE_COMMANDS:
        return None
    from tools.settings import get_settings

    try:
        settings = get_settings()
    except Exception:  # an invalid MIEN_ setting is reported by the command that reads it, in this process
        return None
    try:
        return run_in_service(args, settings)
    except MienError as error:
        print(f"mien: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("mien: interrupted (the service finishes the command; its output is dropped)", file=sys.stderr)
        return 130


def _color_system() -> Literal["standard", "256", "truecolor", "windows"] | None:
    """What rich would use on this terminal (it honours NO_COLOR, TERM and COLORTERM), by rich's own detection."""
    from rich.console import Console

    return Console().color_system  # type: ignore[return-value]


def _writer(stream: TextIO) -> Callable[[str], None]:
    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write
