"""The evidence cache: keyed by content (not path), tool, arguments and versions; atomic; tolerant of damage."""

from __future__ import annotations

import json
from pathlib import Path

from agent.evidence import EvidenceCache, content_hash, evidence_key


def computed(calls: list[int]) -> tuple[str, dict]:
    calls.append(1)
    return '{"summary":"x"}', {"tool": "t", "label": "x"}


def test_a_hit_does_not_compute_again_even_for_a_renamed_copy(tmp_path: Path) -> None:
    original = tmp_path / "a.bin"
    original.write_bytes(b"media bytes")
    copy = tmp_path / "renamed.bin"
    copy.write_bytes(b"media bytes")
    cache = EvidenceCache(tmp_path / "evidence")
    calls: list[int] = []
    first, hit1 = cache.get_or_compute(original, "t", {"media": str(original)}, {"m": "1"}, lambda: computed(calls))
    second, hit2 = cache.get_or_compute(copy, "t", {"media": str(copy)}, {"m": "1"}, lambda: computed(calls))
    assert (hit1, hit2, len(calls)) == (False, True, 1)
    assert second.artifact == first.artifact


def test_content_arguments_and_versions_each_change_the_key(tmp_path: Path) -> None:
    media = tmp_path / "a.bin"
    media.write_bytes(b"one")
    base = evidence_key(content_hash(media), "t", {"media": "x", "mode": "blur"}, {"m": "1"})
    assert base != evidence_key(content_hash(media), "t", {"media": "x", "mode": "mask"}, {"m": "1"})
    assert base != evidence_key(content_hash(media), "t", {"media": "x", "mode": "blur"}, {"m": "2"})
    assert base != evidence_key(content_hash(media), "u", {"media": "x", "mode": "blur"}, {"m": "1"})
    media.write_bytes(b"two")
    assert base != evidence_key(content_hash(media), "t", {"media": "x", "mode": "blur"}, {"m": "1"})


def test_a_damaged_record_is_recomputed_and_records_are_written_whole(tmp_path: Path) -> None:
    media = tmp_path / "a.bin"
    media.write_bytes(b"bytes")
    cache = EvidenceCache(tmp_path / "evidence")
    calls: list[int] = []
    record, _ = cache.get_or_compute(media, "t", {}, {}, lambda: computed(calls))
    path = next((tmp_path / "evidence").rglob("*.json"))
    assert json.loads(path.read_text())["key"] == record.key
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    path.write_text("{ truncated")
    _, hit = cache.get_or_compute(media, "t", {}, {}, lambda: computed(calls))
    assert (hit, len(calls)) == (False, 2)


def test_a_record_whose_file_is_gone_is_recomputed(tmp_path: Path) -> None:
    media = tmp_path / "a.bin"
    media.write_bytes(b"bytes")
    cache = EvidenceCache(tmp_path / "evidence")
    calls: list[int] = []

    def exists(record) -> bool:  # type: ignore[no-untyped-def]
        return (tmp_path / "out.mp4").exists()

    cache.get_or_compute(media, "t", {}, {}, lambda: computed(calls), exists)
    _, hit = cache.get_or_compute(media, "t", {}, {}, lambda: computed(calls), exists)
    assert (hit, len(calls)) == (False, 2)
