"""``mien service start|stop|status``: the resident service that keeps the models loaded (``agent.service``).

``mien ask`` and ``mien chat`` start it on first use and use it while it runs (``MIEN_SERVICE=auto``); these
commands manage it by hand. ``status`` exits 0 when a service runs and 1 when none does, so scripts can test it.
"""

from __future__ import annotations

import time

import typer

from agent.cli.output import console, emit_json
from agent.service.lifecycle import find_service, start_service, stop_service
from agent.service.paths import service_paths, settings_fingerprint
from agent.service.protocol import ServiceStatus
from tools.settings import get_settings

service_app = typer.Typer(help="The resident service that keeps models loaded between commands.", no_args_is_help=True)


@service_app.command("start")
def start(as_json: bool = typer.Option(False, "--json")) -> None:
    """Start the service (if it is not running) and wait until its models are loaded."""
    settings = get_settings()
    began = time.perf_counter()
    status, started = start_service(settings)
    waited = time.perf_counter() - began
    if as_json:
        emit_json({"started": started, "waited_s": round(waited, 3), **status.model_dump(mode="json")})
        return
    verb = "started" if started else "already running"
    console.print(f"Mien service {verb}: pid {status.pid}, {status.socket} (ready in {waited:.1f} s)")


@service_app.command("stop")
def stop(as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop the service; nothing to do when none runs."""
    pid = stop_service(get_settings())
    if as_json:
        emit_json({"stopped": pid is not None, "pid": pid})
        return
    console.print(f"stopped the Mien service (pid {pid})" if pid is not None else "no Mien service is running")


@service_app.command("status")
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Whether the service runs, what it loaded, how long it has been idle."""
    settings = get_settings()
    paths = service_paths(settings)
    found = find_service(settings, paths)
    current: ServiceStatus | None = found[1] if found else None
    if found:
        found[0].close()
    same = current is not None and current.settings_fingerprint == settings_fingerprint(settings)
    if as_json:
        body = current.model_dump(mode="json") if current else {"state": "stopped", "socket": str(paths.socket)}
        emit_json({"running": current is not None, "same_settings": same, "log": str(paths.log), **body})
    elif current is None:
        console.print(f"no Mien service is running (socket {paths.socket})")
    else:
        console.print(
            f"Mien service {current.state}: pid {current.pid}, up {current.uptime_s:.0f} s, "
            f"{current.requests} requests, idle {current.idle_s:.0f} s of {current.idle_timeout_s:.0f} s"
        )
        console.print(f"chat model {current.chat_model} at {current.chat_base_url}; socket {current.socket}")
        for model in current.warm:
            failed = f" (failed: {model.error})" if model.error else ""
            console.print(f"  loaded {model.name} in {model.seconds:.1f} s{failed}")
        if not same:
            console.print("[yellow]its settings differ from this shell's: commands here answer in-process[/]")
    if current is None:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(service_app, name="service")
