"""Benchmark: the gallery server and the embedded chat server under concurrent clients (loopback, bounded).

Both servers run as their own processes, behind API keys (``servers.security``), exactly as ``mien serve`` runs
them. A closed-loop load generator (asyncio + httpx in this process) keeps N clients busy: each sends a request,
waits for the answer, and sends the next; a 503 is counted and the client waits the ``Retry-After`` it names.
Every level stops after ``--seconds`` or ``--requests`` per client, whichever comes first, and a request taking
longer than ``--timeout`` counts as a hang.

- gallery: ``POST /v1/gallery/preselect`` (the server's share of a search: one encrypted sum of products per
  segment over every template) on a gallery of ``--templates`` synthetic 128-d templates (seeded random unit
  vectors, built in-process first and compacted into block segments), probes encrypted beforehand so the clients
  spend no CPU on cryptography; and ``GET /v1/gallery`` (authentication and HTTP alone) for scale.
- chat: ``POST /v1/chat/completions`` (``--chat-tokens`` tokens, temperature 0) on the embedded default model.

Ratios are to the 1-client level of the same run. Client and server share the machine's cores, so on a loaded
machine the numbers say as much about the neighbours as about Mien; the header prints the load average.

    python -m evals.bench.load [--templates 10000] [--gallery-clients 1,8,32,64] [--chat-clients 1,4,16]
"""

from __future__ import annotations

import os

from evals.bench import run_bench

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402


@dataclass
class Level:
    """One row of the table: a server, a request kind, a number of concurrent clients."""

    server: str
    request: str
    clients: int
    ok: int = 0
    busy_503: int = 0
    retry_after: str = ""
    other_errors: int = 0
    hangs: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.ok / self.wall_s if self.wall_s else 0.0

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q)) if self.latencies_s else float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run_level(level: Level, url: str, method: str, bodies: list[bytes], headers: dict[str, str],
                     seconds: float, per_client: int, timeout_s: float) -> Level:  # fmt: skip
    deadline = time.monotonic() + seconds

    async def client(index: int, http: httpx.AsyncClient) -> None:
        for n in range(per_client):
            if time.monotonic() > deadline:
                return
            body = bodies[(index + n) % len(bodies)] if bodies else None
            tick = time.perf_counter()
            try:
                response = await http.request(method, url, content=body, headers=headers, timeout=timeout_s)
            except httpx.TimeoutException:
                level.hangs += 1
                continue
            except httpx.HTTPError as error:
                level.other_errors += 1
                kind = type(error).__name__
                level.error_kinds[kind] = level.error_kinds.get(kind, 0) + 1
                continue
            if response.status_code == 200:
                level.ok += 1
                level.latencies_s.append(time.perf_counter() - tick)
            elif response.status_code == 503:
                level.busy_503 += 1
                level.retry_after = response.headers.get("retry-after", "none")
                await asyncio.sleep(float(response.headers.get("retry-after", "1") or 1))
            else:
                level.other_errors += 1
                kind = f"HTTP {response.status_code}"
                level.error_kinds[kind] = level.error_kinds.get(kind, 0) + 1

    limits = httpx.Limits(max_connections=level.clients + 4, max_keepalive_connections=level.clients + 4)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(i, http) for i in range(level.clients)))
        level.wall_s = time.perf_counter() - start
    return level


def _start(args: list[str], env: dict[str, str], port: int, log: Path, timeout_s: float) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        process = subprocess.Popen([sys.executable, *args], env=env, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2, trust_env=False).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server {args[:2]} did not start; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIEN_")}
    env.update(MIEN_HOME=str(home), OMP_NUM_THREADS="1", GLOG_minloglevel="2", HF_HUB_OFFLINE="1")
    return env


def build_gallery(workdir: Path, templates: int) -> tuple[Path, list[bytes]]:
    """A compacted encrypted gallery of ``templates`` seeded unit vectors, and 8 encrypted preselect bodies."""
    from tools.encrypted import EncryptedGallery, SearchOptions, create_keys, load_keys
    from tools.encrypted.engine import GalleryEngine
    from tools.encrypted.messages import PreselectRequest
    from tools.encrypted.names import NameBook

    store, crypto = workdir / "gallery.sqlite", workdir / "crypto"
    create_keys(crypto)
    keys = load_keys(crypto)
    engine = GalleryEngine(store)
    gallery = EncryptedGallery(keys, engine, NameBook(crypto), SearchOptions())
    rng = np.random.default_rng(16)
    vectors = rng.normal(size=(templates, 128))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    tick = time.perf_counter()
    gallery.enroll_many([(f"id{i:06d}", vectors[i : i + 1]) for i in range(templates)], "synthetic")
    gallery.compact()
    print(f"built {templates} templates in {time.perf_counter() - tick:.1f} s ({store.stat().st_size / 2**20:.0f} MB)")
    layout = gallery._layout()
    bodies = []
    for probe in rng.normal(size=(8, 128)):
        features = gallery._get_projection().features((probe / np.linalg.norm(probe))[None, :])[0]
        block = [keys.encrypt(p) for p in layout.tier("block").tile(features)]
        request = PreselectRequest(key_id=keys.key_id, expected_revision=None, block_probe=block)
        bodies.append(request.model_dump_json().encode())
    engine.store.close()
    return store, bodies


def bench_gallery(args: argparse.Namespace, workdir: Path) -> list[Level]:
    from servers.security import KeyStore

    store, bodies = build_gallery(workdir, args.templates)
    home = workdir / "gallery-home"
    token = KeyStore(home / "api-keys.json").add("load-bench", ["identify"])
    port = _free_port()
    server = _start(["-m", "servers.gallery", "--store", str(store), "--port", str(port)], _env(home), port,
                    workdir / "gallery.log", 300)  # fmt: skip
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    base = f"http://127.0.0.1:{port}/v1/gallery"
    levels = []
    try:
        for clients in args.gallery_clients:
            for request, method, url, payload in (("info", "GET", base, []),
                                                  ("preselect", "POST", base + "/preselect", bodies)):  # fmt: skip
                level = Level("gallery", request, clients)
                asyncio.run(_run_level(level, url, method, payload, headers, args.seconds,
                                       args.requests * (8 if request == "info" else 1), args.timeout))  # fmt: skip
                print(_row(level, None), flush=True)
                levels.append(level)
    finally:
        _stop(server)
    return levels


def bench_chat(args: argparse.Namespace, workdir: Path) -> list[Level]:
    from servers.security import KeyStore

    home = workdir / "chat-home"
    token = KeyStore(home / "api-keys.json").add("load-bench", ["chat"])
    port = _free_port()
    env = _env(home)
    env.pop("MIEN_HOME")
    env["MIEN_HOME"] = str(home)
    server = _start(["-m", "servers.local", "--guard", "--port", str(port), "--max-queue", str(args.chat_queue),
                     "--max-new-tokens", str(args.chat_tokens)], env, port, workdir / "chat.log", 600)  # fmt: skip
    headers = {"authorization": f"Bearer {token}"}
    models = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers=headers, timeout=30).json()
    name = models["data"][0]["id"]
    body = json.dumps({"model": name, "temperature": 0, "max_tokens": args.chat_tokens,
                       "messages": [{"role": "user", "content": "Name one colour."}]}).encode()  # fmt: skip
    headers["content-type"] = "application/json"
    levels = []
    try:
        for clients in args.chat_clients:
            level = Level("chat", f"completion ({name})", clients)
            asyncio.run(_run_level(level, f"http://127.0.0.1:{port}/v1/chat/completions", "POST", [body], headers,
                                   args.seconds, max(1, args.requests // 4), args.timeout))  # fmt: skip
            print(_row(level, None), flush=True)
            levels.append(level)
    finally:
        _stop(server)
    return levels


def _row(level: Level, base: Level | None) -> str:
    ratio = f"{level.rps / base.rps:5.2f}x" if base is not None and base.rps else "   - "
    return (f"{level.server:8} {level.request:34.34} {level.clients:4d} {level.ok:5d} {level.rps:8.2f} {ratio} "
            f"{level.pct(50):7.3f} {level.pct(95):7.3f} {level.pct(99):7.3f} {level.busy_503:5d} "
            f"{level.retry_after or '-':>5} {level.other_errors:4d} {level.hangs:4d}")  # fmt: skip


HEADER = (f"{'server':8} {'request':34} {'clients':>4} {'ok':>5} {'req/s':>8} {'ratio':>6} {'p50 s':>7} {'p95 s':>7} "
          f"{'p99 s':>7} {'503s':>5} {'Retry':>5} {'err':>4} {'hang':>4}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench.load", description=__doc__.split("\n\n")[0])
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser.add_argument("--templates", type=int, default=10_000)
    parser.add_argument("--gallery-clients", type=ints, default=[1, 8, 32, 64])
    parser.add_argument("--chat-clients", type=ints, default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0, help="most seconds per level")
    parser.add_argument("--requests", type=int, default=40, help="most requests per client per level")
    parser.add_argument("--timeout", type=float, default=120.0, help="a request slower than this is a hang")
    parser.add_argument("--chat-tokens", type=int, default=8)
    parser.add_argument("--chat-queue", type=int, default=8, help="the chat server's --max-queue")
    parser.add_argument("--skip", choices=["gallery", "chat"], default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every level here")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; loopback; keys checked on every request")
    levels: list[Level] = []
    with tempfile.TemporaryDirectory(prefix="mien-load-") as tmp:
        if args.skip != "gallery":
            levels += bench_gallery(args, Path(tmp))
        if args.skip != "chat":
            levels += bench_chat(args, Path(tmp))
    print("\n" + HEADER)
    for level in levels:
        base = next(b for b in levels if (b.server, b.request) == (level.server, level.request))
        print(_row(level, base))
    for level in levels:
        if level.error_kinds:
            print(f"errors at {level.server} {level.request} x{level.clients}: {level.error_kinds}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rows = [{**asdict(level), "rps": level.rps, "p50_s": level.pct(50), "p95_s": level.pct(95),
                 "p99_s": level.pct(99)} for level in levels]  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    run_bench(main)
