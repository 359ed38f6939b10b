"""The gallery server as a real process behind API keys: 401 without a valid key, 403 without the scope, the
audit log of who changed what, revocation without restart, body limits (413), the concurrency limit (503 with
Retry-After), the refusal to bind beyond loopback without keys, and HTTPS through uvicorn's certificate options.

Templates are random unit vectors: what is tested is access control and bookkeeping, not recognition."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from servers.security import KeyStore
from tests.hardening.processes import ServerProcess, free_port, gallery_args, server_env, start_server
from tools.encrypted import EncryptedGallery, RemoteGalleryService, create_keys, load_keys
from tools.encrypted.names import NameBook
from tools.encrypted.store import GalleryStore
from tools.errors import AuthError

pytestmark = pytest.mark.slow
EMBEDDER = "dlib-resnet"
BODY_LIMIT_MB = 2


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "server-home"
        self.store = root / "gallery.sqlite"
        keys = KeyStore(self.home / "api-keys.json")
        self.keys = keys
        self.search = keys.add("alice-search", ["identify"])
        self.enroll = keys.add("bob-enroll", ["enroll"])
        self.chat = keys.add("carol-chat", ["chat"])
        self.crypto = root / "crypto-keys"
        create_keys(self.crypto)

    def gallery(self, url: str, api_key: str | None) -> EncryptedGallery:
        from tools.encrypted import default_search_options

        service = RemoteGalleryService(url, api_key=api_key or "", busy_retry_budget_s=0)
        return EncryptedGallery(load_keys(self.crypto), service, NameBook(self.crypto), default_search_options())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return Setup(tmp_path_factory.mktemp("gallery-auth"))


@pytest.fixture(scope="module")
def server(setup: Setup) -> Iterator[ServerProcess]:
    port = free_port()
    env = server_env(setup.home, gallery_max_body_mb=str(BODY_LIMIT_MB), server_max_inflight="2")
    running = start_server(gallery_args(setup.store, port), env, setup.root / "server.log", port=port)
    try:
        yield running
    finally:
        running.stop()


def _get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(url + "/v1/gallery", headers=headers, timeout=30, trust_env=False)


def test_a_request_without_a_valid_key_is_a_401(server: ServerProcess, setup: Setup) -> None:
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200  # health needs no key
    missing = _get(server.url)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"] == {
        "type": "AuthError",
        "message": "API key missing: send 'Authorization: Bearer <key>'",
    }
    right_id_wrong_secret = setup.search[:-4] + ("AAAA" if not setup.search.endswith("AAAA") else "BBBB")
    for token in (right_id_wrong_secret, "mien_000000000000_" + "x" * 43, "hunter2"):
        answer = _get(server.url, token)
        assert answer.status_code == 401, token
        assert "not valid" in answer.json()["error"]["message"]
    also_header = httpx.get(server.url + "/v1/gallery", headers={"x-api-key": setup.search}, timeout=30)
    assert also_header.status_code == 200


def test_scopes_split_searching_from_changing_and_the_audit_log_names_who(server: ServerProcess, setup: Setup) -> None:
    assert _get(server.url, setup.chat).status_code == 403  # a chat key is no gallery key
    refused = httpx.post(
        server.url + "/v1/gallery/enroll", json={"expected_revision": 0},
        headers={"authorization": f"Bearer {setup.search}"}, timeout=30,
    )  # fmt: skip
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "the key 'alice-search' has scopes ['identify']; POST /v1/gallery/enroll needs 'enroll'"
    )
    rng = np.random.default_rng(16)
    people = {f"person {i}": rng.normal(size=(2, 128)) for i in range(3)}
    writer = setup.gallery(server.url, setup.enroll)
    for name, rows in people.items():
        assert writer.enroll(name, rows, EMBEDDER) == 2
    assert writer.remove("person 2") == 2
    reader = setup.gallery(server.url, setup.search)
    probe = people["person 1"][0] + rng.normal(size=128) * 0.01
    assert reader.identify(probe, EMBEDDER, 0.9).name == "person 1"
    with pytest.raises(AuthError, match=r"HTTP 403.*needs 'enroll'"):
        reader.enroll("intruder", rng.normal(size=(1, 128)), EMBEDDER)
    with pytest.raises(AuthError, match="HTTP 401"):
        setup.gallery(server.url, None).enroll("nobody", rng.normal(size=(1, 128)), EMBEDDER)

    log = GalleryStore(setup.store).audit_log()
    assert [(r.who, r.action, r.revision, len(r.template_ids)) for r in log] == [
        ("bob-enroll", "init", 0, 0),
        ("bob-enroll", "enroll", 1, 2),
        ("bob-enroll", "enroll", 2, 2),
        ("bob-enroll", "enroll", 3, 2),
        ("bob-enroll", "remove", 4, 2),
    ]
    assert log[4].template_ids == tuple(sorted(log[3].template_ids))  # person 2's two templates left
    assert all(b.at_s >= a.at_s > 1.7e9 for a, b in itertools.pairwise(log))
    with sqlite3.connect(setup.store) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(audit)")]
        assert columns == ["seq", "at_s", "who", "action", "revision", "templates", "template_ids"]  # no blob
        for statement in ("DELETE FROM audit", "UPDATE audit SET who = 'mallory'"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)


def test_a_revoked_key_is_refused_at_once(server: ServerProcess, setup: Setup) -> None:
    token = setup.keys.add("dave-temp", ["identify"])
    assert _get(server.url, token).status_code == 200
    setup.keys.revoke("dave-temp")
    assert _get(server.url, token).status_code == 401  # the server re-reads the key file; no restart


def test_a_body_over_the_limit_is_a_413_before_it_is_read(server: ServerProcess, setup: Setup) -> None:
    auth = {"authorization": f"Bearer {setup.enroll}", "content-type": "application/json"}
    big = b"[" + b"0," * (BODY_LIMIT_MB * 2**20 // 2) + b"0]"
    declared = httpx.post(server.url + "/v1/gallery/enroll", content=big, headers=auth, timeout=30)
    assert declared.status_code == 413
    assert declared.json()["error"]["type"] == "BodyTooLarge"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(BODY_LIMIT_MB * 4):
            yield b" " * 2**19

    chunked = httpx.post(server.url + "/v1/gallery/enroll", content=chunks(), headers=auth, timeout=30)
    assert chunked.status_code == 413
    assert _get(server.url, setup.search).status_code == 200  # and the server still serves


def test_requests_beyond_the_concurrency_limit_get_503_with_retry_after(server: ServerProcess, setup: Setup) -> None:
    """Two uploads that trickle in hold both slots (the limit is 2); a third request is told to come back."""
    release = threading.Event()
    codes: list[int] = []

    def trickle() -> Iterator[bytes]:
        yield b'{"expected_revision": 0,'
        release.wait(30)
        yield b' "placements": []}'

    def upload() -> None:
        auth = {"authorization": f"Bearer {setup.enroll}", "content-type": "application/json"}
        codes.append(httpx.post(server.url + "/v1/gallery/enroll", content=trickle(), headers=auth, timeout=60)
                     .status_code)  # fmt: skip

    holders = [threading.Thread(target=upload) for _ in range(2)]
    for thread in holders:
        thread.start()
    time.sleep(1.5)
    start = time.monotonic()
    busy = _get(server.url, setup.search)
    assert time.monotonic() - start < 5  # refused at once, not queued
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert busy.json()["error"]["type"] == "ServiceBusy"
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200  # health is never refused
    release.set()
    for thread in holders:
        thread.join(60)
    assert sorted(codes) == [409, 409]  # both served once their bodies came (stale revision: the gallery moved on)
    assert _get(server.url, setup.search).status_code == 200


def test_binding_beyond_loopback_without_keys_is_refused(tmp_path: Path) -> None:
    env = server_env(tmp_path / "no-keys-home")
    result = subprocess.run(
        [sys.executable, *gallery_args(tmp_path / "g.sqlite", free_port(), "--host", "0.0.0.0")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "refusing to serve the gallery server on 0.0.0.0 without API keys" in result.stderr
    assert "mien keys add NAME --scope" in result.stderr


def test_https_with_a_self_signed_certificate(setup: Setup, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    port = free_port()
    args = gallery_args(tmp_path / "tls.sqlite", port, "--tls-cert", str(cert), "--tls-key", str(key))
    server = start_server(args, server_env(setup.home), tmp_path / "tls.log", port=port, scheme="https",
                          verify=str(cert))  # fmt: skip
    try:
        info = RemoteGalleryService(server.url, api_key=setup.search, ca_file=cert).info()
        assert info.initialized is False
        with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port gets no answer
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # nor does an unknown cert
            httpx.get(server.url + "/health", timeout=5)
    finally:
        server.stop()
