"""The gallery server (a real process) under concurrent client processes, and SIGKILLed in the middle of
enrollments: no template lost or duplicated, revisions without gaps, every acknowledged enrollment present.

Templates are seeded random unit vectors (``gallery_worker.template``), so that each can be rebuilt and compared
with what the server's ciphertexts decrypt to."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.security import KeyStore
from tests.hardening.gallery_checks import client, lines, run_workers, seed, verify_store, wait_all
from tests.hardening.gallery_worker import EMBEDDER, template
from tests.hardening.processes import ServerProcess, free_port, gallery_args, server_env, start_server
from tools.encrypted import create_keys

pytestmark = pytest.mark.slow
ENROLLERS = range(1, 4)


class Rig:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.store = root / "gallery.sqlite"
        self.key = KeyStore(self.home / "api-keys.json").add("enroller", ["enroll"])
        self.crypto = root / "crypto"
        create_keys(self.crypto)

    def start(self, name: str) -> ServerProcess:
        port = free_port()
        return start_server(gallery_args(self.store, port), server_env(self.home), self.root / f"{name}.log", port=port)


@pytest.fixture()
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield Rig(tmp_path)


def test_concurrent_enrollments_and_identifications_lose_and_duplicate_nothing(rig: Rig) -> None:
    server = rig.start("server")
    try:
        seed(client(server.url, rig.key, rig.crypto))
        enrollers = run_workers("enroll", server.url, rig.key, rig.crypto, ENROLLERS, 12, rig.root)
        identifiers = run_workers("identify", server.url, rig.key, rig.crypto, range(8, 10), 8, rig.root)
        wait_all(enrollers + identifiers, timeout_s=300)
        acknowledged = [f"w0-{i}" for i in range(20)]
        for _, path in enrollers:
            done = lines(path)
            assert done[-1].startswith("busy-retries") and not any(line.startswith("error") for line in done), done
            acknowledged += done[:-1]
        for _, path in identifiers:
            found = lines(path)[:-1]
            assert len(found) == 8 and all(line.split()[0] == line.split()[1] for line in found), found
        gallery = client(server.url, rig.key, rig.crypto)
        report = verify_store(gallery, rig.store, acknowledged)
        print(f"\nconcurrent: {report}")
        assert report.acknowledged == 20 + 3 * 12 == report.present and not report.missing
        assert report.present_unacknowledged == 0
        assert report.worst_value_error < 1e-3
    finally:
        server.stop()


def test_sigkill_mid_enrollment_keeps_every_acknowledged_template(rig: Rig) -> None:
    server = rig.start("before-kill")
    seed(client(server.url, rig.key, rig.crypto))
    enrollers = run_workers("enroll", server.url, rig.key, rig.crypto, ENROLLERS, 500, rig.root)
    deadline = time.monotonic() + 240
    while sum(len(lines(path)) for _, path in enrollers) < 24 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.15)  # land inside the next requests rather than right after an answer
    server.kill()  # in the middle of enrollments: three clients have requests in flight
    wait_all(enrollers, timeout_s=120)
    acknowledged = [f"w0-{i}" for i in range(20)]
    for _, path in enrollers:
        done = lines(path)
        assert done[-2].startswith("error ServiceError") and "unreachable" in done[-2], done[-3:]
        acknowledged += done[:-2]
    restarted = rig.start("after-kill")
    try:
        gallery = client(restarted.url, rig.key, rig.crypto)
        report = verify_store(gallery, rig.store, acknowledged)
        print(f"\nafter SIGKILL: {report}")
        assert not report.missing  # every acknowledged enrollment survived
        assert report.present >= report.acknowledged >= 20 + 24
        assert report.present_unacknowledged <= len(ENROLLERS)  # at most the requests in flight
        assert report.worst_value_error < 1e-3
        assert gallery.enroll("after-restart", template(99, 0)[None, :], EMBEDDER) == 1  # and it takes new work
    finally:
        restarted.stop()
