"""``mien gallery add|list|remove`` and ``mien identify``: the identity gallery, plaintext or encrypted.

With ``--encrypted`` the same verbs run against the CKKS gallery (``tools.encrypted``): in-process on this machine,
or against a gallery server with ``--server URL``; the secret key stays in ``--keys``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.output import console, emit_json
from agent.cli.progress import media_progress
from tools.errors import ConfigError
from tools.recognition import IdentityGallery, PlainGallery
from tools.recognition.service import enroll_photos, identify_people
from tools.settings import get_settings

gallery_app = typer.Typer(help="Enroll, list and remove identities.", no_args_is_help=True)
_options: dict[str, object] = {}


@gallery_app.callback()
def _gallery_options(
    path: Path | None = typer.Option(None, "--path", help="Gallery SQLite file (default: MIEN_HOME/gallery.sqlite)."),
    encrypted: bool = typer.Option(False, "--encrypted", help="Use the encrypted (CKKS) gallery."),
    server: str | None = typer.Option(None, "--server", help="Encrypted gallery server URL (with --encrypted)."),
    keys: Path | None = typer.Option(None, "--keys", help="Folder of the encryption keys (with --encrypted)."),
) -> None:
    _options.update(path=path, encrypted=encrypted, server=server, keys=keys)


def open_gallery(
    path: Path | None = None, encrypted: bool = False, server: str | None = None, keys: Path | None = None
) -> IdentityGallery:
    """The gallery the options name: plaintext SQLite by default, the encrypted client with ``encrypted``."""
    settings = get_settings()
    if not encrypted:
        if server is not None or keys is not None:
            raise ConfigError("--server and --keys only apply with --encrypted")
        return PlainGallery(path or settings.resolved_gallery_path)
    try:
        from tools.encrypted import open_encrypted_gallery
    except ImportError as error:
        raise ConfigError(f"the encrypted gallery is not available in this build ({error})") from error
    keys_dir = keys or settings.home / "keys"
    store = None if server else (path or settings.home / "encrypted-gallery.sqlite")
    return open_encrypted_gallery(keys_dir, server_url=server, store_path=store)


def _current() -> IdentityGallery:
    return open_gallery(**_options)  # type: ignore[arg-type]


@gallery_app.command("add")
def add(
    name: str = typer.Argument(..., help="The person's name."),
    images: list[Path] = typer.Argument(..., help="Photos with this person's face (one face each)."),
    largest: bool = typer.Option(False, "--largest", help="Use the largest face when a photo has several."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Enroll NAME from IMAGES (all templates are added in one write, or none)."""
    result = enroll_photos(_current(), name, images, largest=largest)
    if as_json:
        emit_json({"name": result.name, "added": result.added, "templates": result.total, "embedder": result.embedder})
    else:
        console.print(f"enrolled {result.name}: +{result.added} templates ({result.total} in all, {result.embedder})")


@gallery_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List enrolled identities and their template counts."""
    rows = _current().names()
    if as_json:
        emit_json([{"name": n, "templates": c} for n, c in rows])
        return
    table = Table(title=f"{len(rows)} identities")
    table.add_column("name")
    table.add_column("templates")
    for name, count in rows:
        table.add_row(name, str(count))
    console.print(table)


@gallery_app.command("remove")
def remove(name: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Remove NAME and all its templates."""
    removed = _current().remove(name)
    if as_json:
        emit_json({"name": name, "removed_templates": removed})
    else:
        console.print(f"removed {name} ({removed} templates)")


@gallery_app.command("identify")
def gallery_identify(path: Path = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Name the people in PATH against this gallery."""
    _print_identities(_current(), path, None, as_json)


def identify(
    path: Path = typer.Argument(..., help="Image or video."),
    as_json: bool = typer.Option(False, "--json"),
    fps: float | None = typer.Option(None, "--fps"),
    gallery: Path | None = typer.Option(None, "--gallery", help="Gallery SQLite file."),
) -> None:
    """Name the people in PATH from the enrolled gallery."""
    _print_identities(open_gallery(gallery), path, fps, as_json)


def _print_identities(store: IdentityGallery, path: Path, fps: float | None, as_json: bool) -> None:
    with media_progress("identify", enabled=not as_json) as _:
        result, identities = identify_people(store, path, fps=fps)
    if as_json:
        emit_json(
            {
                "media": str(path),
                "people": [
                    {**t.to_dict(), "match": i.to_dict()} for t, i in zip(result.tracks, identities, strict=True)
                ],
            }
        )
        return
    table = Table(title=f"{len(result.tracks)} people in {path}")
    for column in ("#", "identity", "score", "threshold", "from s", "to s"):
        table.add_column(column)
    for track, identity in zip(result.tracks, identities, strict=True):
        table.add_row(
            str(track.track_id),
            identity.name or "unknown",
            f"{identity.score:.3f}",
            f"{identity.threshold:.3f}",
            f"{track.start_s:.2f}",
            f"{track.end_s:.2f}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(gallery_app, name="gallery")
    app.command("identify")(identify)
