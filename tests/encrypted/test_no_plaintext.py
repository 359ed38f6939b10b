"""No plaintext template, probe or name on the server side: its SQLite files and its objects, scanned.

The scan's positive controls show it finds a vector wherever it is (a planted copy, the client's own objects), so
an empty result means something.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.encrypted.conftest import DLIB_THRESHOLD, FaceSet, new_gallery
from tests.encrypted.plaintext_scan import PlaintextScanner, object_dump
from tools.encrypted.engine import GalleryEngine

pytestmark = pytest.mark.slow
EMBEDDER = "dlib-resnet"


def _server_files(store: Path) -> list[Path]:
    names = (store.name, store.name + "-wal", store.name + "-shm")
    return [store.with_name(n) for n in names if store.with_name(n).exists()]


def test_server_files_and_objects_hold_no_plaintext(tmp_path: Path, keys_dir: Path, real_faces: FaceSet) -> None:
    store = tmp_path / "server" / "gallery.sqlite"
    gallery = new_gallery(keys_dir, store)
    extra = real_faces.lfw[:60]
    gallery.enroll_many([(f"lfw-{i:03d}", extra[i : i + 1]) for i in range(60)], EMBEDDER)
    gallery.compact()  # into block segments
    for name, rows in real_faces.templates.items():  # into staging segments
        gallery.enroll(name, rows, EMBEDDER)
    assert set(gallery.service.info().segments) == {"block", "full", "staging"}
    probes = [probe for _, probe in real_faces.genuine + real_faces.impostors[:4]]
    for probe in probes:
        gallery.identify(probe, EMBEDDER, DLIB_THRESHOLD)
    gallery.remove("Tom Hanks")

    templates = [row for rows in real_faces.templates.values() for row in rows] + list(extra)
    unit = [v / np.linalg.norm(v) for v in templates + probes]
    projection = gallery._get_projection()
    features = list(projection.features(np.asarray(unit)))  # the preselection features never leave the client either
    scanner = PlaintextScanner(unit + features)

    engine = gallery.service
    assert isinstance(engine, GalleryEngine)
    files = _server_files(store)
    assert files and sum(p.stat().st_size for p in files) > 1_000_000
    for path in files:
        data = path.read_bytes()
        assert scanner.count(data) == 0, f"plaintext vector bytes in {path.name}"
        for name in real_faces.templates:
            assert name.encode() not in data, f"name {name!r} in {path.name}"
    dump = object_dump(engine, engine.ops.dump)
    assert len(dump) > 1_000_000
    assert scanner.count(dump, every_offset=False) == 0
    for name in real_faces.templates:
        assert name.encode() not in dump

    # Positive controls: the scanner finds what is there.
    planted = b"xyz" + np.asarray(unit[3], dtype=np.float32)[10:14].tobytes() + b"abc"
    assert scanner.count(planted) >= 1
    client_side = {"templates": np.asarray(unit[:3], dtype=np.float32), "features": features[:2]}
    assert scanner.count(object_dump(client_side, engine.ops.dump), every_offset=False) > 0
    assert scanner.count(np.asarray(probes[0], dtype=np.float64).tobytes()) == 1
