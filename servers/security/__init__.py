"""What every Mien server enforces: API keys with scopes, body limits, bounded concurrency, safe binds, TLS.

Plugging a server in (a FastAPI app factory), one call before returning the app:

    from servers.security import guard_agent_server
    guard_agent_server(app, settings, "web server")   # agent-scope keys, 401/403/413/503 before the app sees it

then ``servers.uvicorn_run.run_app(app, host=..., tls=...)`` refuses a non-loopback bind without keys. Servers
with their own scopes build a policy with ``server_policy(settings, route_scopes, max_body_mb=...)`` and call
``install_guard(app, policy)`` (the gallery and chat servers do). See ``docs/security.md``.
"""

from servers.security.bind import TlsFiles, check_bind, is_loopback
from servers.security.guard import (
    LOCAL_ACTOR,
    GuardMiddleware,
    GuardPolicy,
    default_error_body,
    install_guard,
    openai_error_body,
)
from servers.security.keys import SCOPES, ApiKey, KeyStore
from servers.security.policy import (
    agent_route_scope,
    guard_agent_server,
    prepare_to_listen,
    server_policy,
    web_route_scope,
)

__all__ = [
    "LOCAL_ACTOR",
    "SCOPES",
    "ApiKey",
    "GuardMiddleware",
    "GuardPolicy",
    "KeyStore",
    "TlsFiles",
    "agent_route_scope",
    "check_bind",
    "default_error_body",
    "guard_agent_server",
    "install_guard",
    "is_loopback",
    "openai_error_body",
    "prepare_to_listen",
    "server_policy",
    "web_route_scope",
]
