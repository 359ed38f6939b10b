"""Checks of the gallery store after concurrent or interrupted enrollments, made from three independent records:
what clients were told (their ack files), what the server holds (layout, decrypted ciphertexts), and what the
audit log says happened."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.hardening.gallery_worker import EMBEDDER, template
from tools.encrypted import EncryptedGallery, RemoteGalleryService, default_search_options, load_keys
from tools.encrypted.names import NameBook
from tools.encrypted.store import GalleryStore


def client(url: str, key: str, crypto: Path) -> EncryptedGallery:
    service = RemoteGalleryService(url, timeout_s=120, api_key=key)
    return EncryptedGallery(load_keys(crypto), service, NameBook(crypto), default_search_options())


def seed(gallery: EncryptedGallery, count: int = 20) -> None:
    """Worker 0's people, enrolled and compacted before the workers start (the identifiers search for them)."""
    gallery.enroll_many([(f"w0-{i}", template(0, i)[None, :]) for i in range(count)], EMBEDDER)


def run_workers(
    mode: str, url: str, key: str, crypto: Path, workers: range, count: int, folder: Path
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    out = []
    for worker in workers:
        path = folder / f"{mode}-{worker}.txt"
        args = [sys.executable, "-m", "tests.hardening.gallery_worker", mode, url, key, str(crypto), str(worker),
                str(count), str(path)]  # fmt: skip
        out.append((subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), path))
    return out


def wait_all(processes: list[tuple[subprocess.Popen[bytes], Path]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for process, _ in processes:
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        assert process.returncode == 0, process.stderr.read().decode()[-2000:] if process.stderr else ""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@dataclass
class StoreReport:
    acknowledged: int
    present: int
    present_unacknowledged: int
    missing: list[str]
    revision: int
    audit_revisions: list[int]
    worst_value_error: float


def verify_store(gallery: EncryptedGallery, store: Path, acknowledged: list[str]) -> StoreReport:
    """Every acknowledged name has exactly one template on the server, holding its vector (decrypted); no template
    sits twice in a slot; the audit log's revisions run 0, 1, 2, … without a gap up to the gallery's revision."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    view = gallery._sync(force=True)
    placements = view.placements
    assert len({(p.full_segment, p.full_slot) for p in placements.values()}) == len(placements)
    assert len({(p.pre_tier, p.pre_segment, p.pre_slot) for p in placements.values()}) == len(placements)
    names = gallery.names_book.all()  # template id -> name
    per_name = Counter(names[i] for i in placements if i in names)
    assert max(per_name.values()) == 1, [n for n, c in per_name.items() if c > 1][:5]  # no duplicate
    ids_by_name = {names[i]: i for i in placements if i in names}
    missing = [name for name in acknowledged if name not in ids_by_name]
    present = set(ids_by_name)
    wanted = [ids_by_name[n] for n in acknowledged if n in ids_by_name]
    values = gallery._read_full([placements[i] for i in wanted])
    expected = np.stack([template(int(n[1 : n.index("-")]), int(n[n.index("-") + 1 :])) for n in acknowledged
                         if n in ids_by_name])  # fmt: skip
    worst = float(np.max(np.abs(values - expected))) if len(wanted) else 0.0
    audit = GalleryStore(store).audit_log()
    revisions = [r.revision for r in audit]
    info = gallery.service.info()
    assert revisions == list(range(len(revisions))) and revisions[-1] == info.revision
    audited_ids: set[str] = set()
    for record in audit:
        if record.action == "enroll":
            audited_ids |= set(record.template_ids)
        elif record.action == "remove":
            audited_ids -= set(record.template_ids)
    assert audited_ids == set(placements)
    return StoreReport(
        acknowledged=len(acknowledged),
        present=len(placements),
        present_unacknowledged=len(present - set(acknowledged)) + len(set(placements) - set(names)),
        missing=missing,
        revision=info.revision,
        audit_revisions=revisions,
        worst_value_error=worst,
    )
