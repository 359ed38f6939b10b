"""Byte-level mutations of a seed file, the damage hostile or broken media carries.

Each mutant applies one to three of: flipped bits, bytes set to boundary values, a run of random bytes, a 16- or
32-bit field set to a boundary integer (where container length, count and size fields live), a chunk deleted,
duplicated or inserted, or the file cut short. Half the edits land in the first 1 KiB, where headers are: a random
offset in a large file almost always hits compressed payload, which tests the decoder's concealment but rarely the
demuxer's parsing. Everything is drawn from the ``random.Random`` it is given, so a seed reproduces a run.
"""

from __future__ import annotations

import random
from collections.abc import Callable

HEADER_BYTES = 1024
_BOUNDARY_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
_BOUNDARY_INTS = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def _offset(rng: random.Random, size: int) -> int:
    if size <= 1:
        return 0
    limit = min(size, HEADER_BYTES) if rng.random() < 0.5 else size
    return rng.randrange(limit)


def flip_bits(data: bytearray, rng: random.Random) -> str:
    count = rng.randint(1, 8)
    for _ in range(count):
        data[_offset(rng, len(data))] ^= 1 << rng.randrange(8)
    return f"flip {count} bits"


def boundary_byte(data: bytearray, rng: random.Random) -> str:
    at = _offset(rng, len(data))
    data[at] = rng.choice(_BOUNDARY_BYTES)
    return f"byte {at} = {data[at]:#x}"


def random_run(data: bytearray, rng: random.Random) -> str:
    at = _offset(rng, len(data))
    length = min(rng.choice((4, 16, 64, 256)), len(data) - at)
    data[at : at + length] = bytes(rng.randrange(256) for _ in range(length))
    return f"noise {length} bytes at {at}"


def boundary_int(data: bytearray, rng: random.Random) -> str:
    width = rng.choice((2, 4))
    at = _offset(rng, max(1, len(data) - width))
    value = rng.choice(_BOUNDARY_INTS) & ((1 << (8 * width)) - 1)
    data[at : at + width] = value.to_bytes(width, rng.choice(("little", "big")))
    return f"int{8 * width} {value:#x} at {at}"


def delete_chunk(data: bytearray, rng: random.Random) -> str:
    at = _offset(rng, len(data))
    length = rng.choice((1, 4, 16, 256))
    del data[at : at + length]
    return f"delete {length} bytes at {at}"


def duplicate_chunk(data: bytearray, rng: random.Random) -> str:
    at = _offset(rng, len(data))
    length = rng.choice((4, 16, 256, 4096))
    data[at:at] = data[at : at + length]
    return f"duplicate {length} bytes at {at}"


def insert_random(data: bytearray, rng: random.Random) -> str:
    at = _offset(rng, len(data))
    length = rng.choice((1, 4, 64))
    data[at:at] = bytes(rng.randrange(256) for _ in range(length))
    return f"insert {length} bytes at {at}"


def truncate(data: bytearray, rng: random.Random) -> str:
    keep = rng.randrange(1, max(2, len(data)))
    del data[keep:]
    return f"truncate to {keep} bytes"


MUTATORS: tuple[Callable[[bytearray, random.Random], str], ...] = (
    flip_bits,
    boundary_byte,
    random_run,
    boundary_int,
    delete_chunk,
    duplicate_chunk,
    insert_random,
    truncate,
)


def mutate(seed: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A mutant of ``seed`` and a description of what was done to it (never empty, never the seed unchanged)."""
    data = bytearray(seed)
    steps = [rng.choice(MUTATORS)(data, rng) for _ in range(rng.choice((1, 1, 2, 3)))]
    if not data:
        data = bytearray(seed[:1])
    if bytes(data) == seed:
        data[_offset(rng, len(data))] ^= 0xFF
        steps.append("invert one byte")
    return bytes(data), "; ".join(steps)
