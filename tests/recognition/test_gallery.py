"""The plaintext SQLite gallery: enroll, identify, verify, list, remove; bad files; crash safety."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tools.errors import GalleryError, UnknownIdentityError
from tools.recognition import PlainGallery


def unit(rng: np.random.Generator, n: int, dim: int = 128) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_enroll_list_identify_remove(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gallery = PlainGallery(tmp_path / "g.sqlite")
    alice, bob = unit(rng, 3), unit(rng, 2)
    assert gallery.enroll("Alice", alice, "dlib-resnet") == 3
    assert gallery.enroll("Bob", bob, "dlib-resnet") == 2
    assert gallery.enroll("Alice", alice[:1], "dlib-resnet") == 4
    assert gallery.names() == [("Alice", 4), ("Bob", 2)]
    probe = alice[1] + 0.1 * unit(rng, 1)[0]
    identity = gallery.identify(probe, "dlib-resnet", threshold=0.8)
    assert identity.name == "Alice" and identity.score > 0.9
    assert [c.name for c in identity.candidates] == ["Alice", "Bob"]
    assert gallery.identify(unit(rng, 1)[0], "dlib-resnet", threshold=0.8).name is None
    assert gallery.verify("Bob", bob[0], "dlib-resnet", 0.8).name == "Bob"
    assert gallery.remove("Bob") == 2
    assert gallery.names() == [("Alice", 4)]


def test_templates_of_other_embedders_never_mix(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    gallery = PlainGallery(tmp_path / "g.sqlite")
    gallery.enroll("Alice", unit(rng, 1, 512), "arcface-onnx")
    assert gallery.identify(unit(rng, 1)[0], "dlib-resnet", 0.5).name is None


def test_unknown_identity_is_a_clear_error(tmp_path: Path) -> None:
    gallery = PlainGallery(tmp_path / "g.sqlite")
    gallery.enroll("Alice", unit(np.random.default_rng(2), 1), "dlib-resnet")
    with pytest.raises(UnknownIdentityError, match="'Carol' is not enrolled"):
        gallery.remove("Carol")


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("my precious notes, not a database\n" * 20)
    before = path.read_bytes()
    with pytest.raises(GalleryError, match="not a Mien gallery"):
        PlainGallery(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("bad", [np.zeros((1, 128)), np.full((1, 128), np.nan), np.zeros((0, 128))])
def test_bad_templates_are_refused(tmp_path: Path, bad: np.ndarray) -> None:
    with pytest.raises(GalleryError):
        PlainGallery(tmp_path / "g.sqlite").enroll("X", bad, "dlib-resnet")


def test_a_crash_during_enrollment_leaves_the_gallery_as_it_was(tmp_path: Path) -> None:
    """A real crash: a child process is killed (os._exit) in the middle of an enrollment's inserts."""
    path = tmp_path / "g.sqlite"
    rng = np.random.default_rng(3)
    PlainGallery(path).enroll("Alice", unit(rng, 2), "dlib-resnet")
    before = PlainGallery(path).names()
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        import tools.recognition.gallery as g
        original = g._ensure_schema
        def dying_schema(db):
            original(db)
            inserted = []
            def trace(statement):
                if statement.startswith("INSERT INTO templates"):
                    inserted.append(statement)
                    if len(inserted) == 3:
                        os._exit(9)  # die with two of five templates written, before COMMIT
            db.set_trace_callback(trace)
        g._ensure_schema = dying_schema
        v = np.random.default_rng(4).normal(size=(5, 128)).astype(np.float32)
        g.PlainGallery({str(path)!r}).enroll("Mallory", v, "dlib-resnet")
        """
    )
    child = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], check=False)
    assert child.returncode == 9
    assert PlainGallery(path).names() == before
