"""The ``mien`` command line. Subcommands live in ``agent.cli.commands``, one module per area."""

from agent.cli.app import main

__all__ = ["main"]
