"""512-d (ArcFace-shaped) templates: encrypted answers equal plaintext ones among 2,000 distractors, in every
candidate-hiding mode. The vectors are synthetic (``conftest.arcface_people``): no ArcFace weights ship offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.encrypted.conftest import ARCFACE_THRESHOLD, arcface_people, arcface_samples, new_gallery, plain_gallery
from tests.encrypted.recording import RecordingService
from tests.encrypted.search_report import compare
from tools.encrypted import EncryptedGallery, SearchOptions
from tools.recognition import PlainGallery

pytestmark = pytest.mark.slow
EMBEDDER = "arcface-onnx"


@pytest.fixture(scope="module")
def arcface(
    tmp_path_factory: pytest.TempPathFactory, keys_dir: Path
) -> tuple[EncryptedGallery, PlainGallery, list[tuple[str, np.ndarray]]]:
    folder = tmp_path_factory.mktemp("arcface")
    people, centers = arcface_people(250, 8, seed=11)
    rng = np.random.default_rng(12)
    genuine = [(f"arc-{i:04d}", arcface_samples(centers[i], 1, rng)[0]) for i in range(0, 250, 25)]
    strangers = arcface_people(10, 1, seed=13)[0]
    probes = genuine + [(f"stranger {n}", rows[0]) for n, rows in strangers.items()]
    encrypted = new_gallery(keys_dir, folder / "server.sqlite")
    encrypted.enroll_many(list(people.items()), EMBEDDER)
    return encrypted, plain_gallery(folder / "plain.sqlite", people, EMBEDDER), probes


def test_identical_names_and_decisions_to_plaintext(arcface) -> None:  # type: ignore[no-untyped-def]
    encrypted, plain, probes = arcface
    report = compare(encrypted, plain, probes, EMBEDDER, ARCFACE_THRESHOLD)
    print("\narcface-shaped 512-d:", report.line())
    assert report.disagreements == []
    assert report.accepted == 10  # the ten genuine probes, no stranger
    assert report.max_score_error < 1e-5
    info = encrypted.service.info()
    assert info.templates == 2000 and info.segments == {"block": 2, "full": 250}
    assert info.layout is not None and info.layout["feature_dim"] == 128


@pytest.mark.parametrize("hiding", ["padded", "all"])
def test_hiding_modes_give_the_same_answers(arcface, hiding: str) -> None:  # type: ignore[no-untyped-def]
    encrypted, plain, probes = arcface
    recorder = RecordingService(encrypted.service)
    options = SearchOptions(hiding=hiding, pad_segments=12)  # type: ignore[arg-type]
    hidden = EncryptedGallery(encrypted.keys, recorder, encrypted.names_book, options)  # type: ignore[arg-type]
    report = compare(hidden, plain, probes[::7], EMBEDDER, ARCFACE_THRESHOLD)
    assert report.disagreements == []
    if hiding == "all":
        assert report.same_nearest == report.probes  # everything scored: even a stranger's nearest identity is exact
    asked = [len(r.segments) for r in recorder.requests("score")]
    if hiding == "padded":
        assert asked and set(asked) == {12}  # every request names 12 full segments: real ones hidden among decoys
    else:
        assert not recorder.requests("preselect") and set(asked) == {250}  # no preselection: everything is scored


def test_staged_templates_are_searched_like_compacted_ones(tmp_path: Path, keys_dir: Path) -> None:
    people, centers = arcface_people(40, 3, seed=21)
    encrypted = new_gallery(keys_dir, tmp_path / "server.sqlite")
    for name, rows in people.items():  # one enrollment per person: all stay in the template-major staging tier
        encrypted.enroll(name, rows, EMBEDDER)
    assert encrypted.service.info().segments == {"full": 15, "staging": 4}  # 32 templates per staging ciphertext
    plain = plain_gallery(tmp_path / "plain.sqlite", people, EMBEDDER)
    rng = np.random.default_rng(22)
    probes = [(n, arcface_samples(centers[i], 1, rng)[0]) for i, n in enumerate(people) if i % 4 == 0]
    assert compare(encrypted, plain, probes, EMBEDDER, ARCFACE_THRESHOLD).disagreements == []
    assert encrypted.compact() == 120
    assert encrypted.service.info().segments == {"block": 1, "full": 15}
    report = compare(encrypted, plain, probes, EMBEDDER, ARCFACE_THRESHOLD)
    assert report.disagreements == [] and report.accepted == len(probes)
