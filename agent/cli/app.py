"""Builds the ``mien`` Typer app from every module in ``agent.cli.commands`` and turns errors into exit codes.

Each command module exposes ``register(app: typer.Typer) -> None``; adding a command is adding a module, so
capabilities never edit one shared file.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys
import traceback

import typer

from agent.cli import commands
from tools.errors import MienError
from tools.native_stderr import NativeStderrFilter
from tools.settings import get_settings

app = typer.Typer(
    name="mien",
    help="Mien: ask about faces and affect in videos, images and audio.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show info logs."),
) -> None:
    """Mien: ask about faces and affect in videos, images and audio."""
    _state["debug"] = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_commands()


EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in Mien, never the user's input or a server's fault


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a ``MienError`` becomes one line on stderr and its exit code, without a traceback.

    Run as a program (``argv`` None), C++ libraries' log lines are kept off stderr (``tools.native_stderr``) unless
    ``--debug`` or ``MIEN_NATIVE_LOGS=1`` asks for them; called with ``argv`` (tests, scripts), stderr is left as is.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")
    # Model-loading progress bars from transformers/huggingface_hub would interleave with our own output.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if argv is None and _hide_native_logs(sys.argv[1:]):
        with NativeStderrFilter():
            return _run(argv)
    return _run(argv)


def _hide_native_logs(args: list[str]) -> bool:
    if "--debug" in args:
        return False
    try:
        return not get_settings().native_logs
    except Exception:  # an invalid MIEN_ setting is reported by the command that reads it
        return True


def _run(argv: list[str] | None) -> int:
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except MienError as error:
        if _state["debug"]:
            traceback.print_exc()
        print(f"mien: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("mien: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not a user error: one line, and the traceback under --debug
        if _state["debug"]:
            traceback.print_exc()
            print(f"mien: internal error (a bug in Mien): {type(error).__name__}: {error}", file=sys.stderr)
        else:
            print(
                f"mien: internal error (a bug in Mien): {type(error).__name__}: {error} "
                "(rerun with --debug for the traceback)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
