"""``mien models``: every model backend, where its weights come from, and whether it is ready."""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass

import typer
from rich.table import Table

from agent.cli.output import console, emit_json, err_console
from tools.registry import ALL_REGISTRIES

# Modules whose import registers backends. A capability that adds a registry adds its module here.
BACKEND_MODULES = (
    "tools.faces.detectors",
    "tools.faces.embedders",
    "tools.expression.backends",
    "tools.expression.modalities.clip",
    "tools.text_embedding",
    "tools.speech.backends",
    "tools.attack.detector",
    "tools.personalize.backends",
)


def _import_all_backends() -> None:
    """Import every module that registers backends (registration happens at import)."""
    for name in BACKEND_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as error:  # a capability not installed in this build
            err_console.print(f"[yellow]skipped {name}: {error}[/yellow]")


@dataclass(frozen=True)
class BackendStatus:
    """One row of ``mien models``."""

    task: str
    name: str
    default: bool
    ready: bool
    weights: str
    description: str


def models(as_json: bool = typer.Option(False, "--json")) -> None:
    """List every backend, its weights and whether it is ready to run."""
    _import_all_backends()
    rows: list[BackendStatus] = []
    for registry in ALL_REGISTRIES:
        for entry in registry.entries():
            try:
                ready = bool(entry.ready())
                weights = entry.weights()
            except Exception as error:  # a broken backend must not hide the others
                ready, weights = False, f"error: {error}"
            rows.append(BackendStatus(entry.task, entry.name, entry.default, ready, weights, entry.description))
    if as_json:
        emit_json([asdict(row) for row in rows])
        return
    table = Table(title="Mien model backends (--json for descriptions)")
    for column in ("task", "name", "default", "ready", "weights"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.task, row.name, "*" if row.default else "", "yes" if row.ready else "no", _short(row.weights))
    console.print(table)


def _short(path: str) -> str:
    """Paths inside site-packages are long and alike: keep the part after it."""
    marker = "site-packages/"
    return "…/" + path.split(marker, 1)[1] if marker in path else path


def register(app: typer.Typer) -> None:
    app.command("models")(models)
