"""Reassembling a GGUF split over packages: order, atomic write, the recorded SHA-256 checked, clear failures.

The first tests build three small part packages of their own (random bytes) so that every path can be exercised
in milliseconds; the slow test assembles the real Qwen2.5-Coder-0.5B parts installed from PyPI and checks the
recorded hash against hashlib's own reading of the concatenated slices.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from servers.local.gguf_parts import QWEN_CODER_0_5B, PartedGGUF, assemble, assembled_path
from tools.errors import ModelUnavailableError
from tools.settings import Settings


@pytest.fixture()
def parts(tmp_path: Path) -> Iterator[tuple[list[bytes], Path]]:
    """Three importable part packages ``mienpart_test1..3``, each with ``data/partNN.bin``."""
    rng = np.random.default_rng(3)
    root = tmp_path / "site"
    slices = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in (1000, 4096, 17)]
    for index, data in enumerate(slices, start=1):
        folder = root / f"mienpart_test{index}"
        (folder / "data").mkdir(parents=True)
        (folder / "__init__.py").write_text("raise ImportError('never import a part package')\n")
        (folder / "data" / f"part{index:02d}.bin").write_bytes(data)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield slices, root
    sys.path.remove(str(root))


def _model(slices: list[bytes], sha256: str | None = None) -> PartedGGUF:
    whole = b"".join(slices)
    return PartedGGUF(
        name="test-model",
        served_name="Test",
        file_name="test.gguf",
        packages=tuple(f"mienpart_test{i}" for i in range(1, len(slices) + 1)),
        size_bytes=len(whole),
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
        pip_spec="mienpart-test{1..3}",
    )


def test_parts_are_concatenated_in_order_and_stamped(parts: tuple[list[bytes], Path], tmp_path: Path) -> None:
    slices, _ = parts
    settings = Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache")
    model = _model(slices)
    assert assembled_path(model, settings) is None
    path = assemble(model, settings)
    assert path == tmp_path / "cache" / "llm" / "gguf" / "test.gguf"
    assert path.read_bytes() == b"".join(slices)
    assert assembled_path(model, settings) == path
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no staging file left
    mtime = path.stat().st_mtime_ns
    assert assemble(model, settings) == path and path.stat().st_mtime_ns == mtime  # not assembled twice


def test_a_changed_file_is_assembled_again(parts: tuple[list[bytes], Path], tmp_path: Path) -> None:
    slices, _ = parts
    settings = Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache")
    model = _model(slices)
    path = assemble(model, settings)
    path.write_bytes(b"tampered")
    assert assembled_path(model, settings) is None  # the stamp no longer matches
    assert assemble(model, settings).read_bytes() == b"".join(slices)


def test_a_wrong_hash_is_refused_and_leaves_nothing(parts: tuple[list[bytes], Path], tmp_path: Path) -> None:
    slices, _ = parts
    settings = Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache")
    with pytest.raises(ModelUnavailableError, match="not the recorded"):
        assemble(_model(slices, sha256="0" * 64), settings)
    assert list((tmp_path / "cache" / "llm" / "gguf").iterdir()) == []


def test_a_missing_part_package_is_named(parts: tuple[list[bytes], Path], tmp_path: Path) -> None:
    slices, root = parts
    (root / "mienpart_test2" / "data" / "part02.bin").unlink()
    (root / "mienpart_test2").rename(root / "moved")
    importlib.invalidate_caches()
    with pytest.raises(ModelUnavailableError, match=r"'mienpart_test2'.*not installed"):
        assemble(_model(slices), Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache"))


@pytest.mark.slow
def test_the_real_qwen_half_billion_parts_assemble_to_the_recorded_hash(tmp_path: Path) -> None:
    slices = QWEN_CODER_0_5B.part_paths()
    assert len(slices) == 6
    digest = hashlib.sha256()
    for part in slices:
        digest.update(part.read_bytes())
    assert digest.hexdigest() == QWEN_CODER_0_5B.sha256  # the recorded hash is the parts' own
    path = assemble(QWEN_CODER_0_5B, Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache"))
    assert path.stat().st_size == QWEN_CODER_0_5B.size_bytes == 491_400_064
    assert path.read_bytes()[:4] == b"GGUF"
