"""The web page behind API keys: the page and its static files load without a key (the browser must load them to
ask for one), its API and media want an ``agent`` key, and the key may come as the page's ``mien_api_key`` cookie,
which the browser also sends for <img> and <video> requests. In-process (httpx's ASGI transport) on the real
guard and key store: what is under test is the guard's reading of the key, not a server process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from servers.security import KeyStore, install_guard, server_policy, web_route_scope
from tools.settings import get_settings


def page_app() -> FastAPI:
    app = FastAPI()
    app.get("/")(lambda: PlainTextResponse("page"))
    app.get("/static/app.js")(lambda: PlainTextResponse("js"))
    app.get("/api/media/{media_id}/file")(lambda media_id: PlainTextResponse(f"video {media_id}"))
    return app


def test_the_key_cookie_opens_the_page_api(isolated_home: Path) -> None:
    asyncio.run(_check_key_cookie())


async def _check_key_cookie() -> None:
    settings = get_settings()
    store = KeyStore(settings.resolved_api_keys_path)
    agent_key = store.add("browser", ["agent"])
    gallery_key = store.add("gallery-box", ["identify"])
    app = page_app()
    install_guard(app, server_policy(settings, web_route_scope, max_body_mb=1.0, scopes=("agent",)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        assert (await client.get("/")).text == "page"
        assert (await client.get("/static/app.js")).status_code == 200
        assert (await client.get("/api/media/abc/file")).status_code == 401
        cookie = {"Cookie": f"theme=dark; mien_api_key={quote(agent_key)}"}
        opened = await client.get("/api/media/abc/file", headers=cookie)
        assert opened.status_code == 200 and opened.text == "video abc"
        wrong = await client.get("/api/media/abc/file", headers={"Cookie": f"mien_api_key={quote(gallery_key)}"})
        assert wrong.status_code == 403
        unknown = await client.get("/api/media/abc/file", headers={"Cookie": "mien_api_key=not-a-key"})
        assert unknown.status_code == 401
