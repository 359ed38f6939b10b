"""``mien serve mcp``: every Mien tool over the Model Context Protocol (official ``mcp`` SDK), stdio or HTTP.

Tools run one at a time in a worker thread (they are CPU-bound and share per-file memos), so the event loop keeps
answering ``tools/list`` and pings while a video is analysed. A failed call is an MCP tool result with
``isError`` and a message naming the problem (a ``MienError``'s class and text); the server keeps serving. A bug
in Mien is logged with its traceback and reported as an internal error, also without stopping the server.

The streamable HTTP transport is a FastAPI app from ``create_app(settings)``, like the other servers, behind the
shared guard (``servers.security``: API keys with the ``agent`` scope when the key file holds any, body and
concurrency limits, no non-loopback bind without keys).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
from fastapi import FastAPI
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from servers.data_folder import DataFolder
from servers.mcp.images import finding_pictures
from servers.mcp.registry import McpTool, call_tool, mien_tools
from servers.security.policy import guard_agent_server
from tools.errors import MienError
from tools.langchain_tools.faces import package_version
from tools.langchain_tools.types import Finding
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Mien's face and affect tools. Every path argument names a file inside the server's data folder (relative "
    "paths are resolved there); outputs are written there too. Results are measurements and labelled estimates "
    "(action units from mesh geometry, body cues as heuristics), with annotated frames as images."
)


def tool_result(finding: Finding) -> types.CallToolResult:
    """The finding as text (what the agent's model reads), images (annotated frames, written files) and
    structured content (label, summary, facts, files)."""
    content: list[types.ContentBlock] = [types.TextContent(type="text", text=finding.content())]
    for picture in finding_pictures(finding):
        content.append(types.TextContent(type="text", text=f"image: {picture.caption}"))
        data = base64.b64encode(picture.data).decode("ascii")
        content.append(types.ImageContent(type="image", data=data, mime_type=picture.mime_type))
    structured = {key: value for key, value in finding.to_dict().items() if key != "marks"}
    return types.CallToolResult(content=content, structured_content=structured, is_error=False)


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


class McpTools:
    """The tools, the data folder and the lock that runs one tool at a time."""

    def __init__(self, settings: Settings, tools: dict[str, McpTool] | None = None) -> None:
        self.settings = settings
        self.folder = DataFolder.of(settings)
        self.folder.root.mkdir(parents=True, exist_ok=True)
        self.tools = tools if tools is not None else mien_tools(settings)
        self._lock = threading.Lock()

    def definitions(self) -> list[types.Tool]:
        return [
            types.Tool(name=tool.name, description=tool.description, input_schema=tool.input_schema())
            for tool in self.tools.values()
        ]

    def run(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """One call, in a worker thread: the result, or an error result that names the problem."""
        with self._lock:
            try:
                return tool_result(call_tool(self.tools, name, arguments, self.folder, self.settings))
            except MienError as error:
                log.info("tool %s refused: %s", name, error)
                return error_result(f"{type(error).__name__}: {error}")
            except Exception as error:  # a bug of ours: logged in full, the server keeps serving
                log.exception("tool %s failed", name)
                return error_result(f"internal error in {name} ({type(error).__name__}); see the server log")


def create_server(settings: Settings | None = None, tools: dict[str, McpTool] | None = None) -> Server[Any]:
    """The MCP server (transport-independent) offering every Mien tool."""
    state = McpTools(settings or get_settings(), tools)

    async def list_tools(_: Any, __: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=state.definitions())

    async def run_tool(_: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments
        if arguments is not None and not isinstance(arguments, dict):
            return error_result(f"arguments must be a JSON object, not {json.dumps(arguments)[:80]}")
        return await anyio.to_thread.run_sync(state.run, params.name, arguments)

    return Server(
        "mien",
        version=package_version("mien"),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=run_tool,
    )


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client over this process's stdin/stdout (the SDK diverts stray output on fd 1 to stderr)."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def create_app(settings: Settings | None = None, server: Server[Any] | None = None, host: str = "127.0.0.1") -> FastAPI:
    """A FastAPI app serving MCP over streamable HTTP at ``/mcp`` (and ``/health``).

    On a loopback ``host`` the SDK's DNS-rebinding protection accepts only loopback Host and Origin headers."""
    settings = settings or get_settings()
    server = server or create_server(settings)
    security = None
    if host in ("127.0.0.1", "localhost", "::1"):
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    manager = StreamableHTTPSessionManager(
        app=server, security_settings=security, max_request_body_size=settings.server_max_upload_bytes
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = FastAPI(title="Mien MCP server", lifespan=lifespan)
    app.router.routes.append(Route("/mcp", endpoint=StreamableHTTPASGIApp(manager)))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.state.mcp_server = server
    guard_agent_server(app, settings, "MCP server")  # API keys (agent scope) when configured, limits, safe binds
    return app
