"""Where the resident service lives: one private folder per user and Mien home, holding its socket, locks and log.

The folder is ``MIEN_SERVICE_DIR``, else ``$XDG_RUNTIME_DIR/mien-<home hash>`` (a per-user tmpfs on systemd
machines), else ``/tmp/mien-<uid>/<home hash>``. Keying it on the home keeps two homes (tests, two profiles) from
sharing a service whose galleries and threads are another home's. It is created 0o700 and must be owned by us and
closed to others: a unix socket any local user could reach would let them ask about our media and galleries.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tools.errors import ConfigError
from tools.settings import Settings

# sockaddr_un.sun_path holds 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class ServicePaths:
    """The service folder and the files in it."""

    folder: Path

    @property
    def socket(self) -> Path:
        """The unix socket the service answers HTTP on (0o600)."""
        return self.folder / "service.sock"

    @property
    def pid_file(self) -> Path:
        """Holds the running service's pid; the service keeps an exclusive lock on it for its whole life."""
        return self.folder / "service.pid"

    @property
    def start_lock(self) -> Path:
        """Clients hold this lock while they check for, start and wait for a service: no double start."""
        return self.folder / "start.lock"

    @property
    def log(self) -> Path:
        """The service's log (its stdout and stderr)."""
        return self.folder / "service.log"


def home_key(settings: Settings) -> str:
    return hashlib.sha256(str(settings.home.expanduser().resolve()).encode()).hexdigest()[:12]


def service_folder(settings: Settings) -> Path:
    """The folder the settings name (not created)."""
    if settings.service_dir is not None:
        return settings.service_dir.expanduser()
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir() and os.access(runtime, os.W_OK):
        return Path(runtime) / f"mien-{home_key(settings)}"
    return Path("/tmp") / f"mien-{os.getuid()}" / home_key(settings)


def service_paths(settings: Settings, create: bool = True) -> ServicePaths:
    """The service's paths; with ``create``, the folder (and its per-user parent under /tmp) made 0o700 and
    checked to be ours and private. Raises ``ConfigError`` naming the folder when it is not."""
    folder = service_folder(settings)
    paths = ServicePaths(folder)
    if len(str(paths.socket).encode()) > MAX_SOCKET_PATH:
        raise ConfigError(
            f"the service socket path {paths.socket} is longer than a unix socket allows ({MAX_SOCKET_PATH} bytes); "
            "set MIEN_SERVICE_DIR to a shorter folder"
        )
    if create:
        if folder.parent.name == f"mien-{os.getuid()}" and folder.parent.parent == Path("/tmp"):
            _private_folder(folder.parent)
        _private_folder(folder)
    return paths


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"the service folder {folder} is not a folder (a link?); remove it or set MIEN_SERVICE_DIR")
    if info.st_uid != os.getuid():
        raise ConfigError(f"the service folder {folder} belongs to another user; set MIEN_SERVICE_DIR")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)


def settings_fingerprint(settings: Settings) -> str:
    """A hash of the settings set away from their defaults (but the service's own): a client uses a running service
    only when it was started with the same settings (models, thresholds, endpoint), so that its answers are the
    ones this process would give."""
    values = {
        k: v for k, v in settings.model_dump(mode="json", exclude_defaults=True).items() if not k.startswith("service")
    }
    values["home"] = str(settings.home)
    return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def code_stamp() -> str:
    """A hash of the path, size and modification time of every Python file of Mien's packages (a few ms): a service
    running older code than the client's (an upgrade, an edit) is restarted rather than used."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in ("agent", "tools", "servers", "prompts"):
        for path in sorted((root / package).rglob("*.py")):
            info = path.stat()
            digest.update(f"{path.relative_to(root)}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]
