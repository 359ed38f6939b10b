"""The ``mien`` command line. Subcommands live in ``agent.cli.commands``, one module per area.

``main`` imports the whole CLI (every command, and through them torch and the media stack: seconds) only when the
command runs in this process. A perception command that the running resident service can run is handed to it
first, with nothing heavier imported than its client: that is what makes a warm ``mien faces`` fast.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run ``mien``; ``argv`` None means this process's arguments (then the resident service may run it)."""
    if argv is None:
        from agent.service.commands import main_in_service

        served = main_in_service(sys.argv[1:])
        if served is not None:
            return served
    from agent.cli.app import main as run_here

    return run_here(argv)


__all__ = ["main"]
