"""Identities on real photos and composed clips, through the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from agent.cli import main
from evals.clips import astronaut_head, group_person
from tools.faces.pipeline import get_default_embedder
from tools.media import save_image
from tools.recognition import PlainGallery
from tools.recognition.service import enroll_photos, identify_people, single_face_embedding


@pytest.fixture()
def enrolled(tmp_path: Path, astronaut: np.ndarray, group_photo: np.ndarray) -> PlainGallery:
    gallery = PlainGallery(tmp_path / "gallery.sqlite")
    enroll_photos(gallery, "Eileen", [save_image(tmp_path / "eileen.png", astronaut)])
    enroll_photos(gallery, "Man in t1", [save_image(tmp_path / "man.png", group_person(2))])
    return gallery


def test_people_crossing_are_named_after_enrollment(enrolled: PlainGallery, crossing_clip: Path) -> None:
    result, identities = identify_people(enrolled, crossing_clip, fps=5)
    by_start = sorted(zip(result.tracks, identities, strict=True), key=lambda p: p[0].faces[0].box.center[0])
    assert [identity.name for _, identity in by_start] == ["Eileen", "Man in t1"]


def test_unenrolled_people_are_unknown(enrolled: PlainGallery, tmp_path: Path) -> None:
    stranger = save_image(tmp_path / "stranger.png", group_person(4))
    _, identities = identify_people(enrolled, stranger)
    assert [i.name for i in identities] == [None]


def test_mirrored_and_rescaled_copies_are_the_same_person(tmp_path: Path, astronaut: np.ndarray) -> None:
    embedder = get_default_embedder()
    _, original = single_face_embedding(save_image(tmp_path / "a.png", astronaut))
    mirror = save_image(tmp_path / "mirror.png", np.ascontiguousarray(astronaut[:, ::-1]))
    small = save_image(tmp_path / "small.png", cv2.resize(astronaut, (307, 307), interpolation=cv2.INTER_AREA))
    for copy in (mirror, small):
        _, vector = single_face_embedding(copy)
        assert float(original @ vector) >= embedder.match_threshold


def test_different_people_are_different(tmp_path: Path, group_photo: np.ndarray) -> None:
    from tools.faces import analyze_image

    embedder = get_default_embedder()
    faces = analyze_image(group_photo)
    vectors = np.stack([f.embedding for f in faces if f.embedding is not None])
    similarity = vectors @ vectors.T
    off_diagonal = similarity[~np.eye(len(vectors), dtype=bool)]
    assert off_diagonal.max() < embedder.match_threshold


def test_cli_enroll_list_identify_remove(
    tmp_path: Path, crossing_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gallery = tmp_path / "g.sqlite"
    head = save_image(tmp_path / "head.png", astronaut_head())
    assert main(["gallery", "--path", str(gallery), "add", "Eileen", str(head), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["templates"] == 1
    assert main(["identify", str(crossing_clip), "--gallery", str(gallery), "--json"]) == 0
    people = json.loads(capsys.readouterr().out)["people"]
    assert sorted(p["match"]["name"] or "unknown" for p in people) == ["Eileen", "unknown"]
    assert main(["gallery", "--path", str(gallery), "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"name": "Eileen", "templates": 1}]
    assert main(["gallery", "--path", str(gallery), "remove", "Eileen"]) == 0
    assert main(["gallery", "--path", str(gallery), "remove", "Eileen"]) == 6
    assert "not enrolled" in capsys.readouterr().err


def test_enrolling_a_group_photo_needs_one_face(
    tmp_path: Path, group_photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_image(tmp_path / "group.jpg", group_photo)
    assert main(["gallery", "--path", str(tmp_path / "g.sqlite"), "add", "Someone", str(path)]) != 0
    assert "6 faces found" in capsys.readouterr().err
