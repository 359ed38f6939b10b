"""Where a server may listen: loopback freely; anywhere else only with API keys (and, preferably, TLS).

Why refuse rather than warn: a gallery server reachable from the network without keys lets anyone enroll or
remove templates; a chat server lets anyone use the machine's CPU. The refusal names the fix.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from tools.errors import ConfigError

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class TlsFiles:
    """uvicorn's ``ssl_certfile`` / ``ssl_keyfile``: PEM certificate (chain) and its private key."""

    certfile: Path
    keyfile: Path

    @classmethod
    def from_options(cls, certfile: Path | None, keyfile: Path | None) -> TlsFiles | None:
        if certfile is None and keyfile is None:
            return None
        if certfile is None or keyfile is None:
            raise ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)")
        for path in (certfile, keyfile):
            if not path.is_file():
                raise ConfigError(f"TLS file {path} does not exist")
        return cls(certfile, keyfile)


def check_bind(host: str, *, authenticating: bool, tls: TlsFiles | None, server: str) -> None:
    """Refuse a non-loopback ``host`` without keys; warn when keys would cross the network unencrypted."""
    if is_loopback(host):
        return
    if not authenticating:
        raise ConfigError(
            f"refusing to serve the {server} on {host} without API keys: anyone who can reach it could use it. "
            "Create a key with `mien keys add NAME --scope ...` (the server then requires keys), or bind 127.0.0.1"
        )
    if tls is None:
        log.warning(
            "the %s listens on %s with API keys but without TLS: keys and data cross the network in clear text; "
            "pass --tls-cert and --tls-key",
            server,
            host,
        )
