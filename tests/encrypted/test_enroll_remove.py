"""Enrollment packs a new template into its own slots without re-encrypting anyone else; removal cancels it.

Templates here are synthetic 128-d unit vectors (clustered per person): these tests check bookkeeping and
ciphertext handling, the search tests check answers on real faces.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.encrypted.conftest import new_gallery
from tests.encrypted.recording import RecordingService
from tools.encrypted import EncryptedGallery
from tools.encrypted.engine import GalleryEngine
from tools.encrypted.names import NameBook
from tools.errors import GalleryError, UnknownIdentityError

EMBEDDER = "dlib-resnet"


def _people(count: int, seed: int, per_person: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(count):
        center = rng.normal(size=128)
        rows = center + 0.1 * rng.normal(size=(per_person, 128))
        out[f"person {i:03d}"] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def _stored(engine: GalleryEngine) -> dict[tuple[str, int, int], str]:
    return {
        (tier, segment, part): hashlib.sha256(blob).hexdigest()
        for tier, segment, part, blob in engine.store.iter_ciphertexts(("full", "staging", "block", "projection"))
    }


@pytest.fixture()
def gallery(tmp_path: Path, keys_dir: Path) -> EncryptedGallery:
    gallery = new_gallery(keys_dir, tmp_path / "server.sqlite")
    for name, rows in _people(20, seed=1).items():
        gallery.enroll(name, rows, EMBEDDER)
    return gallery


def test_enrolling_one_template_encrypts_two_ciphertexts_and_touches_no_other(gallery: EncryptedGallery) -> None:
    engine = gallery.service
    assert isinstance(engine, GalleryEngine)
    before = _stored(engine)
    recorder = RecordingService(engine)
    gallery.service = recorder  # type: ignore[assignment]
    newcomer = _people(1, seed=99, per_person=1)["person 000"]
    assert gallery.enroll("Newcomer", newcomer, EMBEDDER) == 1
    (request,) = recorder.requests("enroll")
    assert [(d.tier, d.part) for d in request.deltas] == [("staging", 0), ("full", 0)]
    (placement,) = request.placements
    after = _stored(engine)
    changed = {key for key in after if before.get(key) != after[key]}
    assert changed == {("staging", placement.pre_segment, 0), ("full", placement.full_segment, 0)}
    assert gallery.identify(newcomer[0], EMBEDDER, 0.9).name == "Newcomer"


def test_removal_cancels_the_values_and_frees_the_slots(gallery: EncryptedGallery) -> None:
    people = _people(20, seed=1)
    before = {name: gallery.identify(rows[0], EMBEDDER, 0.9).score for name, rows in people.items()}
    engine = gallery.service
    assert isinstance(engine, GalleryEngine)
    ids = set(gallery.names_book.ids_of("person 007"))
    gone = {p.template_id: p for p in engine.layout().placements if p.template_id in ids}
    assert gallery.remove("person 007") == 2
    assert "person 007" not in dict(gallery.names())
    assert gallery.identify(people["person 007"][0], EMBEDDER, 0.9).name is None
    full = gallery._layout().tier("full")
    for placement in gone.values():  # the key owner can check: the freed slots hold only CKKS noise
        (blob,) = engine.store.segment("full", placement.full_segment)
        freed = full.unpack(gallery.keys.decrypt(blob, "fresh", "check")[None, :])[placement.full_slot]
        assert np.abs(freed).max() < 1e-6
    for name, rows in people.items():
        if name != "person 007":
            assert gallery.identify(rows[0], EMBEDDER, 0.9).score == pytest.approx(before[name], abs=1e-6)
    gallery.enroll("Reuser", _people(1, seed=5, per_person=2)["person 000"], EMBEDDER)
    new_ids = set(gallery.names_book.ids_of("Reuser"))
    reused = {(p.full_segment, p.full_slot) for p in engine.layout().placements if p.template_id in new_ids}
    assert reused == {(p.full_segment, p.full_slot) for p in gone.values()}


def test_removing_the_last_templates_of_a_segment_drops_its_ciphertexts(tmp_path: Path, keys_dir: Path) -> None:
    gallery = new_gallery(keys_dir, tmp_path / "server.sqlite")
    gallery.enroll("Only", _people(1, seed=3)["person 000"], EMBEDDER)
    assert gallery.service.info().segments == {"full": 1, "staging": 1}
    gallery.remove("Only")
    info = gallery.service.info()
    assert info.templates == 0 and info.segments == {}
    assert gallery.names() == []


def test_compaction_moves_staged_templates_into_blocks_and_keeps_answers(gallery: EncryptedGallery) -> None:
    people = _people(20, seed=1)
    assert gallery.compact() == 40
    info = gallery.service.info()
    assert info.staged == 0 and info.segments == {"block": 1, "full": 2}
    for name, rows in people.items():
        assert gallery.identify(rows[1], EMBEDDER, 0.9).name == name
    gallery.enroll("After", _people(1, seed=8)["person 000"], EMBEDDER)  # new enrollments go to staging again
    assert gallery.service.info().staged == 2
    assert gallery.remove("person 003") == 2  # removal from a block segment
    assert gallery.identify(people["person 003"][0], EMBEDDER, 0.9).name is None


def test_unknown_names_and_bad_templates_are_refused(gallery: EncryptedGallery) -> None:
    with pytest.raises(UnknownIdentityError, match="'nobody' is not enrolled"):
        gallery.remove("nobody")
    with pytest.raises(GalleryError, match="64 dimensions, this gallery's templates 128"):
        gallery.enroll("Short", np.ones((1, 64)), EMBEDDER)
    with pytest.raises(GalleryError, match="holds dlib-resnet templates, not arcface-onnx"):
        gallery.enroll("Other", np.ones((1, 128)), "arcface-onnx")
    with pytest.raises(GalleryError, match="NaN"):
        gallery.enroll("Broken", np.full((1, 128), np.nan), EMBEDDER)
    with pytest.raises(GalleryError, match="non-empty name"):
        gallery.enroll("  ", np.ones((1, 128)), EMBEDDER)
    assert len(gallery.names()) == 20


def test_two_clients_of_one_key_folder_see_each_others_changes(gallery: EncryptedGallery) -> None:
    """Each client caches the layout; a change by the other one makes the server refuse the stale request, and
    the client re-reads the layout and retries."""
    other = EncryptedGallery(gallery.keys, gallery.service, NameBook(gallery.names_book.path.parent))
    people = _people(20, seed=1)
    assert other.identify(people["person 004"][0], EMBEDDER, 0.9).name == "person 004"  # caches its layout
    newcomer = _people(1, seed=77)["person 000"]
    gallery.enroll("Newcomer", newcomer, EMBEDDER)
    assert other.identify(newcomer[0], EMBEDDER, 0.9).name == "Newcomer"
    other.enroll("Second", _people(1, seed=78)["person 000"], EMBEDDER)
    gallery.enroll("Third", _people(1, seed=79)["person 000"], EMBEDDER)  # its cached layout is stale by now
    assert {"Newcomer", "Second", "Third"} <= {name for name, _ in other.names()}
