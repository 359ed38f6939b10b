"""Encrypted search gives the plaintext search's answers on real dlib embeddings among ~2,700 distractors.

Real: the astronaut, Tom Hanks and four people of t1.jpg enrolled (their photos), probed with other versions of
their photos (mirror, darker, rotated); impostors: the other two people of t1.jpg and ten LFW faces. Distractors:
90 more real LFW faces and ~2,600 generated templates (``conftest.dlib_distractors`` says how).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.encrypted.conftest import DLIB_THRESHOLD, FaceSet, dlib_distractors, new_gallery, plain_gallery
from tests.encrypted.search_report import compare
from tools.encrypted import EncryptedGallery, SearchOptions
from tools.recognition import PlainGallery

pytestmark = pytest.mark.slow
EMBEDDER = "dlib-resnet"


@pytest.fixture(scope="module")
def galleries(
    tmp_path_factory: pytest.TempPathFactory, keys_dir: Path, real_faces: FaceSet
) -> tuple[EncryptedGallery, PlainGallery, dict[str, np.ndarray]]:
    folder = tmp_path_factory.mktemp("dlib")
    people = {**real_faces.templates, **dlib_distractors(real_faces)}
    encrypted = new_gallery(keys_dir, folder / "server.sqlite")
    encrypted.enroll_many(list(people.items()), EMBEDDER)
    return encrypted, plain_gallery(folder / "plain.sqlite", people, EMBEDDER), people


def test_gallery_holds_thousands_of_templates_compacted_into_blocks(galleries) -> None:  # type: ignore[no-untyped-def]
    encrypted, _, people = galleries
    info = encrypted.service.info()
    assert info.templates == sum(len(rows) for rows in people.values()) > 2500
    assert info.staged == 0 and info.segments["block"] == 3


@pytest.mark.parametrize("threshold", [DLIB_THRESHOLD, 0.95])
def test_identical_names_and_decisions_to_plaintext(galleries, real_faces: FaceSet, threshold: float) -> None:  # type: ignore[no-untyped-def]
    """At dlib's 0.905 every impostor lands on some distractor closer than the threshold (in both searches); at
    0.95 most impostors are rejected and the genuine probes (cosine >= 0.983) still accepted."""
    encrypted, plain, _ = galleries
    probes = real_faces.genuine + real_faces.impostors
    report = compare(encrypted, plain, probes, EMBEDDER, threshold)
    print(f"\ndlib 128-d, threshold {threshold}:", report.line())
    assert report.disagreements == []
    assert report.accepted >= len(real_faces.genuine)
    if threshold > DLIB_THRESHOLD:
        assert report.probes - report.accepted >= 10  # the rejection path is exercised too
    assert report.max_score_error < 1e-5
    assert report.certified == report.probes


def test_genuine_probes_find_the_right_person(galleries, real_faces: FaceSet) -> None:  # type: ignore[no-untyped-def]
    encrypted, _, _ = galleries
    for name, probe in real_faces.genuine:
        assert encrypted.identify(probe, EMBEDDER, DLIB_THRESHOLD).name == name


def test_exhaustive_hiding_mode_gives_the_same_answers(galleries, real_faces: FaceSet) -> None:  # type: ignore[no-untyped-def]
    encrypted, plain, _ = galleries
    hidden = EncryptedGallery(encrypted.keys, encrypted.service, encrypted.names_book, SearchOptions(hiding="all"))
    probes = real_faces.genuine[:3] + real_faces.impostors[:3]
    report = compare(hidden, plain, probes, EMBEDDER, DLIB_THRESHOLD)
    assert report.disagreements == [] and report.same_nearest == len(probes)
    assert hidden.last_stats is not None
    assert hidden.last_stats.segments_scored == encrypted.service.info().segments["full"]
