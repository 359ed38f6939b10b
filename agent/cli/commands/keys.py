"""``mien keys add|list|revoke``: the API keys Mien's servers accept (``servers.security.keys``).

A key is printed once, when it is made; the file (``MIEN_API_KEYS_PATH``, default ``<home>/api-keys.json``) keeps
only salted hashes. Servers re-read the file when it changes, so a revoked key stops working at once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from agent.cli.output import console, emit_json, err_console
from tools.settings import get_settings

if TYPE_CHECKING:
    from servers.security import KeyStore

keys_app = typer.Typer(
    help="API keys for Mien's servers (gallery: identify / enroll; chat; agent).", no_args_is_help=True
)


def _store() -> KeyStore:
    from servers.security import KeyStore

    return KeyStore(get_settings().resolved_api_keys_path)


@keys_app.command("add")
def add(
    name: str = typer.Argument(..., help="Who the key is for (recorded in the gallery's audit log)."),
    scope: list[str] = typer.Option(
        ..., "--scope", help="identify | enroll (implies identify) | chat | agent; repeat for several."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Make a key; it is shown only now: give it to the client (MIEN_API_KEY, or MIEN_LLM_API_KEY for chat)."""
    store = _store()
    token = store.add(name, scope)
    if json_out:
        emit_json({"name": name, "scopes": sorted(scope), "key": token, "file": str(store.path)})
        return
    err_console.print(f"[dim]key {name!r} ({', '.join(sorted(scope))}) added to {store.path}; it is shown once:[/]")
    typer.echo(token)


@keys_app.command("list")
def list_keys(json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Names, scopes and creation times (never a key or its hash)."""
    keys = _store().keys()
    if json_out:
        emit_json(
            [{"name": k.name, "key_id": k.key_id, "scopes": sorted(k.scopes), "created_s": k.created_s} for k in keys]
        )
        return
    if not keys:
        err_console.print("no API keys: servers run without authentication, on loopback only")
        return
    table = Table("name", "key id", "scopes", "created")
    for k in keys:
        table.add_row(
            k.name, k.key_id, ", ".join(sorted(k.scopes)), time.strftime("%Y-%m-%d %H:%M", time.localtime(k.created_s))
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The key's name.")) -> None:
    """Delete a key; servers refuse it from their next request on."""
    gone = _store().revoke(name)
    err_console.print(f"revoked {gone.name!r} ({gone.key_id})")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
