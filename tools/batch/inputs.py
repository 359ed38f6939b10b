"""Which files a batch covers: every media file under a folder, or the paths listed in a text file."""

from __future__ import annotations

from pathlib import Path

from tools.errors import ConfigError

MEDIA_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff",
    ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg",
    ".wav", ".mp3", ".flac", ".m4a", ".ogg", ".opus",
})
LIST_SUFFIXES = frozenset({".txt", ".lst", ".list"})


def collect_inputs(sources: list[Path]) -> list[Path]:
    """The media files named by ``sources``, each resolved once, in a stable (sorted) order.

    A folder contributes its media files recursively (by suffix; hidden files skipped); a ``.txt``/``.lst`` file
    contributes one path per line (blank lines and ``#`` comments skipped; relative paths are relative to the
    list); any other file is taken as a media file itself. A listed file that is missing is kept, so the run
    records an error row for it instead of silently dropping it.
    """
    found: dict[Path, None] = {}
    for source in sources:
        source = source.expanduser()
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES and not path.name.startswith("."):
                    found.setdefault(path.resolve(), None)
        elif source.is_file() and source.suffix.lower() in LIST_SUFFIXES:
            for line in source.read_text(encoding="utf-8", errors="replace").splitlines():
                entry = line.strip()
                if entry and not entry.startswith("#"):
                    listed = Path(entry).expanduser()
                    found.setdefault((listed if listed.is_absolute() else source.parent / listed).resolve(), None)
        elif source.exists():
            found.setdefault(source.resolve(), None)
        else:
            raise ConfigError(f"{source}: no such file or folder")
    return list(found)
