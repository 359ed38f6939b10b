"""A server's ``GuardPolicy`` from the settings, and the checks to run before it starts listening.

One function (``server_policy``) so that every server reads ``MIEN_SERVER_AUTH``, the key file and the limits the
same way; each server only says which scope its routes need and how large its requests may be.
"""

from __future__ import annotations

import logging
from typing import Any

from servers.security.bind import TlsFiles, check_bind
from servers.security.guard import ErrorBodyMaker, GuardPolicy, RouteScopes, default_error_body, install_guard
from servers.security.keys import KeyStore
from tools.errors import ConfigError
from tools.settings import Settings

log = logging.getLogger(__name__)


def server_policy(
    settings: Settings,
    route_scopes: RouteScopes,
    *,
    max_body_mb: float,
    max_inflight: int | None = None,
    error_body: ErrorBodyMaker = default_error_body,
    scopes: tuple[str, ...] = (),
) -> GuardPolicy:
    """The policy ``MIEN_SERVER_AUTH`` asks for: keys required when the key file holds any key for this server's
    ``scopes`` (auto; all keys count when ``scopes`` is empty), always (on, refused without keys), or never (off).
    Why per scope: a gallery key alone should not lock the user out of their own loopback web page."""
    store = KeyStore(settings.resolved_api_keys_path)
    mode = settings.server_auth
    relevant = store.has_keys(frozenset(scopes) if scopes else None)
    if mode == "on" and not store.has_keys():
        raise ConfigError(
            f"MIEN_SERVER_AUTH=on but {store.path} holds no API key: create one with `mien keys add NAME --scope ...`"
        )
    keys = store if mode == "on" or (mode == "auto" and relevant) else None
    return GuardPolicy(
        route_scopes=route_scopes,
        keys=keys,
        max_body_bytes=int(max_body_mb * 2**20),
        max_inflight=max_inflight or settings.server_max_inflight,
        error_body=error_body,
    )


def prepare_to_listen(policy: GuardPolicy, host: str, tls: TlsFiles | None, server: str) -> None:
    """Refuse or warn about the bind (``check_bind``), and say in the log what the server enforces."""
    check_bind(host, authenticating=policy.authenticating, tls=tls, server=server)
    log.info(
        "%s: %s, bodies up to %.0f MB, %d requests at once%s",
        server,
        "API keys required" if policy.authenticating else "no API keys (loopback only)",
        policy.max_body_bytes / 2**20,
        policy.max_inflight,
        ", TLS" if tls is not None else "",
    )


def agent_route_scope(method: str, path: str) -> str | None:
    """The agent's own servers (web page API, MCP, agent API): everything but ``/health`` needs an ``agent`` key."""
    return None if path == "/health" else "agent"


def guard_agent_server(
    app: Any,
    settings: Settings,
    name: str,
    *,
    route_scopes: RouteScopes = agent_route_scope,
    error_body: ErrorBodyMaker = default_error_body,
    count_chunked: bool = True,
) -> GuardPolicy:
    """Put one of the agent's servers behind the guard: ``agent``-scope keys (when the key file holds any), bodies up
    to ``MIEN_SERVER_MAX_UPLOAD_BYTES`` (plus 1 MB of form overhead), ``MIEN_SERVER_MAX_INFLIGHT`` at once; and
    record the policy so ``run_app`` checks the bind. One call in the server's ``create_app``."""
    policy = server_policy(
        settings,
        route_scopes,
        max_body_mb=settings.server_max_upload_bytes / 2**20 + 1,
        error_body=error_body,
        scopes=("agent",),
    )
    policy.count_chunked = count_chunked
    app.state.policy = policy
    app.state.server_name = name
    install_guard(app, policy)
    return policy


def web_route_scope(method: str, path: str) -> str | None:
    """The web page: the page itself and its static files are public (a browser loads them before it can send a
    key); its API, media and files need an ``agent`` key."""
    if path == "/health" or (method == "GET" and (path == "/" or path.startswith("/static/"))):
        return None
    return "agent"
