"""``mien serve gallery`` as its own process: the client works over HTTP, and the server process's memory and
files hold no plaintext template, probe or name, and no secret key."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.encrypted.conftest import DLIB_THRESHOLD, FaceSet, plain_gallery
from tests.encrypted.plaintext_scan import PlaintextScanner, process_memory
from tools.encrypted import RemoteGalleryService, open_encrypted_gallery
from tools.encrypted.ckks import has_secret_key, load_context
from tools.encrypted.keys import SECRET_FILE, create_keys, load_keys
from tools.encrypted.messages import PreselectRequest
from tools.encrypted.store import GalleryStore
from tools.errors import CryptoError, GalleryError

pytestmark = pytest.mark.slow
EMBEDDER = "dlib-resnet"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    store = tmp_path / "server-side" / "gallery.sqlite"
    port = _free_port()
    env = {**os.environ, "MIEN_HOME": str(tmp_path / "server-home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "serve", "gallery", "--store", str(store), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            errors = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"gallery server did not start: {errors[-2000:]}")
        time.sleep(0.2)
    try:
        yield url, process, store
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_gallery_works_over_http_and_the_server_keeps_no_plaintext(
    server: tuple[str, subprocess.Popen[bytes], Path], tmp_path: Path, keys_dir: Path, real_faces: FaceSet
) -> None:
    url, process, store = server
    keys = tmp_path / "client-keys"
    shutil.copytree(keys_dir, keys)
    gallery = open_encrypted_gallery(keys, server_url=url, store_path=None)
    tag = secrets.token_hex(4)  # names no code or library in the server process could contain by chance
    people = {f"{name} #{tag}": rows for name, rows in real_faces.templates.items()}
    lfw = {f"lfw-{i:03d} #{tag}": real_faces.lfw[i : i + 1] for i in range(60)}
    gallery.enroll_many(list(lfw.items()), EMBEDDER)
    gallery.compact()
    for name, rows in people.items():
        gallery.enroll(name, rows, EMBEDDER)
    plain = plain_gallery(tmp_path / "plain.sqlite", {**lfw, **people}, EMBEDDER)
    probes = real_faces.genuine + real_faces.impostors[:6]
    for label, probe in probes:
        secret = gallery.identify(probe, EMBEDDER, 0.95)
        clear = plain.identify(probe, EMBEDDER, 0.95)
        assert (secret.name, round(secret.score, 5)) == (clear.name, round(clear.score, 5)), label
    assert gallery.remove(f"Tom Hanks #{tag}") == 2
    assert f"Tom Hanks #{tag}" not in dict(gallery.names())
    with pytest.raises(GalleryError, match="64 dimensions"):
        gallery.identify(np.ones(64), EMBEDDER, DLIB_THRESHOLD)
    other_dir = tmp_path / "other-keys"
    create_keys(other_dir)
    other = load_keys(other_dir)
    with pytest.raises(CryptoError, match=r"encrypted under key .* mixed up"):  # the server's error, over HTTP
        RemoteGalleryService(url).preselect(
            PreselectRequest(key_id=other.key_id, block_probe=[other.encrypt(np.ones(8)) for _ in range(16)])
        )

    # What the server process holds in memory and on disk.
    templates = [row for rows in real_faces.templates.values() for row in rows] + [r[0] for r in lfw.values()]
    vectors = [v / np.linalg.norm(v) for v in templates + [p for _, p in probes]]
    scanner = PlaintextScanner(vectors + list(gallery._get_projection().features(np.asarray(vectors))))
    names = [name.encode() for name in [*people, *lfw]]
    secret_key = (keys / SECRET_FILE).read_bytes()
    secret_windows = [secret_key[i : i + 48] for i in range(1000, len(secret_key) - 48, len(secret_key) // 8)]
    hits = 0
    for chunk in process_memory(process.pid):
        hits += scanner.count(chunk, every_offset=False)
        assert not any(name in chunk for name in names)
        assert not any(window in chunk for window in secret_windows)
    assert scanner.bytes_scanned > 30_000_000
    print(f"\nscanned {scanner.bytes_scanned / 2**20:.0f} MB of server memory: {hits} vectors found, "
          f"{scanner.stray_matches} isolated 8-byte matches")
    assert hits == 0, scanner.found
    for path in store.parent.iterdir():
        data = path.read_bytes()
        assert scanner.count(data) == 0 and not any(name in data for name in names), path.name
    server_context = load_context(GalleryStore(store).public_context())
    assert server_context.is_public() and not has_secret_key(server_context)
    with pytest.raises(ValueError, match=r"(?i)secret"):
        server_context.secret_key()


def test_the_memory_scan_finds_a_vector_that_a_process_holds(real_faces: FaceSet) -> None:
    """Positive control for the scan above: another process holding one template in memory is caught."""
    template = real_faces.templates["Eileen Collins"][0]
    vector = np.asarray(template / np.linalg.norm(template), dtype=np.float32)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; data = bytes.fromhex(sys.argv[1]); print('ready', flush=True); "
         "time.sleep(60)", vector.tobytes().hex()],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        scanner = PlaintextScanner([vector])
        assert sum(scanner.count(chunk, every_offset=False) for chunk in process_memory(holder.pid)) > 0
    finally:
        holder.kill()
        holder.wait()


def test_a_server_side_process_that_tries_to_decrypt_fails(tmp_path: Path, keys_dir: Path) -> None:
    """A process holding exactly what the server holds (its SQLite file) tries to decrypt a stored template."""
    store = tmp_path / "gallery.sqlite"
    gallery = open_encrypted_gallery(_copy_keys(keys_dir, tmp_path), server_url=None, store_path=store)
    gallery.enroll("Someone", np.random.default_rng(0).normal(size=(1, 128)), EMBEDDER)
    attempt = (
        "import sys\n"
        "from tools.encrypted.engine import GalleryEngine\n"
        "from tools.encrypted.envelope import open_envelope\n"
        "engine = GalleryEngine(sys.argv[1])\n"
        "blob = engine.store.segment('full', 0)[0]\n"
        "ciphertext = engine.ops.load(open_envelope(blob, engine.key_id), 'fresh')\n"
        "try:\n"
        "    engine.ops.context.secret_key()\n"
        "except ValueError as error:\n"
        "    print('tenseal:', error, file=sys.stderr)\n"
        "engine.ops.decrypt(ciphertext)\n"
    )
    result = subprocess.run([sys.executable, "-c", attempt, str(store)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "tenseal: the current context is public, it doesn't hold a Secret key" in result.stderr
    assert "CryptoError: this context holds no secret key: the server side cannot decrypt" in result.stderr


def _copy_keys(keys_dir: Path, folder: Path) -> Path:
    copy = folder / "keys"
    shutil.copytree(keys_dir, copy)
    return copy
