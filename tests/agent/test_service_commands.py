"""Perception commands in the resident service: which commands go there, and ``run_command``, which runs one in
this process exactly as the service does (output as events, the client's working directory, exit codes), then
puts the process back as it was. The whole path through a real service process is in ``test_service.py``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import agent.service.commands as service_commands
from agent.cli.output import console, err_console
from agent.service.cli_run import OutputStream, command_of, run_command
from agent.service.commands import SERVICE_COMMANDS, run_in_service
from agent.service.protocol import RunRequest
from evals import samples
from tools.media import save_image
from tools.settings import Settings


def _run(tmp_path: Path, *argv: str, **terminal: object) -> tuple[int, str, str]:
    out: dict[OutputStream, list[str]] = {"stdout": [], "stderr": []}
    request = RunRequest(argv=list(argv), cwd=str(tmp_path), **terminal)  # type: ignore[arg-type]
    code = run_command(request, lambda stream, text: out[stream].append(text))
    return code, "".join(out["stdout"]), "".join(out["stderr"])


def test_the_subcommand_is_the_first_word_that_is_not_an_option() -> None:
    assert command_of(["-v", "faces", "x.jpg", "--json"]) == "faces"
    assert command_of(["--debug"]) is None
    assert command_of([]) is None


def test_ask_and_the_perception_commands_go_to_the_service_and_never_help_or_debug(tmp_path: Path) -> None:
    assert {"ask", "faces", "emotions", "transcribe", "spot", "deidentify"} <= SERVICE_COMMANDS
    assert not {"chat", "service", "serve", "keys", "batch", "eval"} & SERVICE_COMMANDS  # own paths
    settings = Settings(home=tmp_path / "home", service_dir=tmp_path / "run", service="auto")
    assert run_in_service(["faces", "x.jpg"], settings) is None  # no service runs: this process runs it
    assert not (tmp_path / "run" / "service.sock").exists()  # and nothing was started for it
    for args in (["faces", "--help"], ["--debug", "faces", "x.jpg"], ["chat", "x.jpg"]):
        assert run_in_service(args, settings) is None


def test_ask_with_another_endpoint_never_looks_for_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    def found(_: Settings) -> None:
        raise AssertionError("looked for the service")

    monkeypatch.setattr(service_commands, "service_client_for", found)
    settings = Settings(service="auto")
    assert run_in_service(["ask", "x.jpg", "Who?", "--model", "http://10.0.0.5:8000/v1"], settings) is None
    assert run_in_service(["ask", "x.jpg", "Who?", "--model=http://10.0.0.5:8000/v1"], settings) is None
    with pytest.raises(AssertionError, match="looked for the service"):
        run_in_service(["ask", "x.jpg", "Who?"], settings)


def test_a_command_runs_in_the_clients_folder_and_everything_is_put_back(tmp_path: Path) -> None:
    save_image(tmp_path / "astronaut.png", samples.astronaut())
    cwd, stdout, stderr = os.getcwd(), sys.stdout, sys.stderr
    widths = (console.width, err_console.width)
    code, out, err = _run(tmp_path, "faces", "astronaut.png", "--json", "--annotate", "boxes.png", columns=123)
    assert code == 0, err
    assert json.loads(out)["people"] == 1 and (tmp_path / "boxes.png").is_file()  # relative to the client's folder
    assert (os.getcwd(), sys.stdout, sys.stderr) == (cwd, stdout, stderr)
    assert (console.width, err_console.width) == widths
    assert not console.is_terminal or stdout.isatty()


def test_errors_keep_their_message_and_exit_code(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path, "faces", "missing.png")
    assert code == 3 and out == ""
    assert err.startswith("mien: error: ") and "missing.png" in err
    code, _, err = _run(tmp_path, "faces", "--no-such-option")
    assert code == 2 and "No such option" in err


@pytest.mark.parametrize("tty", [False, True])
def test_the_table_is_as_wide_as_the_clients_terminal_and_coloured_only_on_one(tmp_path: Path, tty: bool) -> None:
    save_image(tmp_path / "astronaut.png", samples.astronaut())
    code, out, _ = _run(
        tmp_path, "faces", "astronaut.png", columns=60, stdout_tty=tty, color_system="truecolor" if tty else None
    )
    assert code == 0
    lines = [line for line in out.splitlines() if "│" in line]
    assert lines and max(len(line) for line in lines) <= 60
    assert ("\x1b[" in out) is tty
